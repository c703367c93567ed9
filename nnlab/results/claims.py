"""Who holds a claim, and whether to believe it: a study's index records, with each claim,
its owner's pid, host, boot and process start time, and a heartbeat the owner renews.

A claim is believed only while its owner provably runs: on the same host and boot, the pid
must be alive *and* have the start time recorded with the claim (a reused pid does not
count); from another host (a results folder shared over the network), its heartbeat must
be younger than :data:`STALE_SECONDS`. A machine that rebooted has no live claims.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from . import fsio

STALE_SECONDS = 1800      # a claim from another host without a heartbeat for this long is taken over: far
                          # longer than a beat plus the longest wait for the lock, so a live owner is never taken over


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def boot_id() -> str:
    """This boot of this machine (Linux); '' where it cannot be read."""
    return _read("/proc/sys/kernel/random/boot_id")


def process_start(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot (Linux /proc); '' if unknown.
    With the pid it names a process uniquely: a pid reused later has another start time."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return ""
    fields = text.rsplit(")", 1)[-1].split()   # the command name may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else ""


@dataclass(frozen=True)
class Owner:
    """Who holds a claim."""

    pid: int
    host: str
    boot: str
    started: str
    since: float
    heartbeat: float

    def alive(self, now: float | None = None) -> bool:
        """Whether the owner provably still runs (see the module's docstring)."""
        now = time.time() if now is None else now
        if self.host == socket.gethostname() and self.boot == boot_id():
            if not fsio.pid_alive(self.pid):
                return False
            return not self.started or process_start(self.pid) in ("", self.started)
        if self.host == socket.gethostname():
            return False   # this machine rebooted since: the owner is gone
        return now - self.heartbeat < STALE_SECONDS

    def describe(self, now: float | None = None) -> str:
        """'pid 4120 on host lab-3 since 14:02:11 (last heard from 12 s ago)'."""
        now = time.time() if now is None else now
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return (f"pid {self.pid} on host {self.host} since {since} "
                f"(last heard from {max(0, now - self.heartbeat):.0f} s ago)")


def _owner(row) -> Owner:
    pid, host, boot, started, since, heartbeat = row
    return Owner(int(pid), host, boot, started, float(since), float(heartbeat))


