"""A study's bookkeeping in one SQLite file, ``<study>/.study.db``: the plans it was run with,
the trials they planned, and which process is training which trial right now (claims).

Why SQLite: several ``nnlab sweep``, ``run`` and ``fix`` processes may work on one study at
once, and any of them may be killed at any instruction. The hand-written files and locks
this replaces lost plans that way (two sweeps each read study.yaml, each added its plan,
the second write won) and believed a claim whose pid had been reused. SQLite (the standard
library's ``sqlite3``, as Optuna's storage does) gives transactions: a writer takes the
study's write lock (``BEGIN IMMEDIATE``), reads, changes and commits, and a kill at any
point rolls the change back on the next open. The trial folders stay as they are (they are
the results; the index never holds a number), and ``study.yaml`` and ``summary.csv`` are
written from the index and the folders while the lock is held (:meth:`StudyIndex.locked`),
so they are replaced in commit order.

Readers (``nnlab report``, ``ls``, ``load_study``) read study.yaml and the folders, and the
live claims when they can open the index read-only: they never write, and a study folder
copied without its .study.db still reads. A study written before the index existed is
imported from its study.yaml the first time a writer opens it.

Claims: which to believe is ``claims.py``'s; the owner renews its heartbeat every
:data:`HEARTBEAT_SECONDS` from a thread of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import yaml

from ..errors import NnlabError, store_error
from . import fsio
from .claims import Owner, _owner, boot_id, process_start

DB = ".study.db"   # hidden, with its -wal and -shm files: bookkeeping, not results
SCHEMA = "1"
BUSY_SECONDS = 300        # a writer waits this long for the study's lock (another writes summary.csv) before failing
HEARTBEAT_SECONDS = 60    # a claim's owner renews its heartbeat this often (waiting at most 30 s for the lock)
NETWORK_FILE_SYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "ceph", "glusterfs", "lustre",
                        "gpfs", "beegfs")

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS plans(position INTEGER PRIMARY KEY, digest TEXT UNIQUE NOT NULL, "
    "record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trials(config_hash TEXT PRIMARY KEY, position INTEGER UNIQUE NOT NULL, "
    "id TEXT NOT NULL, plan_values TEXT NOT NULL, grp TEXT)",
    "CREATE TABLE IF NOT EXISTS claims(config_hash TEXT PRIMARY KEY, token TEXT NOT NULL, pid INTEGER NOT NULL, "
    "host TEXT NOT NULL, boot TEXT NOT NULL, started TEXT NOT NULL, since REAL NOT NULL, heartbeat REAL NOT NULL)",
)


def _store_errors(method):
    """A read of the index that fails (a damaged file, an I/O error) is one line (StoreError)."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(_os_error(exc, self.path), "the study's index (.study.db)") from None
    return wrapper


# ---------------------------------------------------------------- the index

class StudyIndex:
    """The index of one study folder. Open it with ``with StudyIndex(folder) as index:``.
    Writes happen inside :meth:`locked` (``claim`` and ``release`` take it themselves); errors
    reading or writing it are one line (StoreError)."""

    def __init__(self, study_dir: Path):
        self.folder = Path(study_dir)
        self.path = self.folder / DB
        self.conn: sqlite3.Connection | None = None
        self.tokens: dict[str, str] = {}          # config hash -> token of a claim this object holds
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()

    def __enter__(self) -> StudyIndex:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        if self.conn is not None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.conn = self._connect(self.path)
            with self.locked():
                for statement in _TABLES:
                    self.conn.execute(statement)
                if self._meta("schema") is None:
                    self._import_study_yaml()
                    self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise store_error(_os_error(exc, self.path), "the study's index (.study.db)") from None

    @staticmethod
    def _connect(path: Path, timeout: float = BUSY_SECONDS) -> sqlite3.Connection:
        """WAL (readers never wait for a writer) on a local disk; the rollback journal on a
        network file system, where WAL's shared-memory index does not reach other hosts."""
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        mode = "DELETE" if file_system(path.parent) in NETWORK_FILE_SYSTEMS else "WAL"
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute(f"PRAGMA journal_mode={mode}")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def close(self) -> None:
        """Release every claim this object still holds, stop its heartbeat, close."""
        if self.tokens:
            self.release(*self.tokens)
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
            self._heartbeat = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the study's lock is held until the block ends (committed) or
        raises (rolled back). Files written from the index inside it are written in turn."""
        assert self.conn is not None, "open the index first"
        try:
            if self.conn.in_transaction:   # left open by an interrupt that landed inside a statement
                self.conn.execute("ROLLBACK")
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise store_error(_os_error(exc, self.path), "the study's index (.study.db)") from None
        except BaseException:   # Ctrl-C right after BEGIN took the lock: give it back
            with contextlib.suppress(sqlite3.Error):
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            raise
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise store_error(_os_error(exc, self.path), "the study's index (.study.db)") from None
            raise

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()  # type: ignore[union-attr]
        return row[0] if row else None

    # ------------------------------------------------------------ plans and trials

    def add_plan(self, record: dict) -> str | None:
        """Record a plan (``{axes, trials, base}``) unless it was recorded before; its digest
        when it is new, else None. Call inside :meth:`locked`."""
        text = json.dumps(record, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if self.conn.execute("SELECT 1 FROM plans WHERE digest = ?", (digest,)).fetchone():  # type: ignore[union-attr]
            return None
        self.conn.execute("INSERT INTO plans(position, digest, record) VALUES "  # type: ignore[union-attr]
                          "((SELECT COALESCE(MAX(position), -1) + 1 FROM plans), ?, ?)", (digest, text))
        return digest

    def add_trials(self, trials: list[tuple]) -> list[str]:
        """Record planned trials (config hash, id, swept values[, group]); a trial planned
        before keeps its first record. Returns the config hashes that were new. Call inside
        :meth:`locked`."""
        new = []
        for config_hash, trial_id, values, *group in trials:
            cursor = self.conn.execute(  # type: ignore[union-attr]
                "INSERT OR IGNORE INTO trials(config_hash, position, id, plan_values, grp) VALUES "
                "(?, (SELECT COALESCE(MAX(position), -1) + 1 FROM trials), ?, ?, ?)",
                (config_hash, trial_id, json.dumps(values, sort_keys=False, default=str), group[0] if group else None))
            if cursor.rowcount:
                new.append(config_hash)
        return new

    def forget(self, plan_digest: str | None, config_hashes: list[str]) -> None:
        """Take back a plan and trials this process recorded, when its command failed before
        any trial of them ran (``nnlab run --strict``, missing data): nothing stays planned that
        nobody runs. Call inside :meth:`locked`."""
        if plan_digest:
            self.conn.execute("DELETE FROM plans WHERE digest = ?", (plan_digest,))  # type: ignore[union-attr]
        self.conn.executemany("DELETE FROM trials WHERE config_hash = ?", [(h,) for h in config_hashes])  # type: ignore[union-attr]

    @_store_errors
    def empty(self) -> bool:
        """No plan and no claim recorded."""
        conn = self.conn
        return not (conn.execute("SELECT 1 FROM plans LIMIT 1").fetchone()  # type: ignore[union-attr]
                    or conn.execute("SELECT 1 FROM claims LIMIT 1").fetchone())  # type: ignore[union-attr]

    def set_meta(self, key: str, value) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, default=str)))  # type: ignore[union-attr]

    @_store_errors
    def meta(self, key: str):
        text = self._meta(key)
        return None if text is None else json.loads(text)

    @_store_errors
    def plans(self) -> list[dict]:
        rows = self.conn.execute("SELECT record FROM plans ORDER BY position").fetchall()  # type: ignore[union-attr]
        return [json.loads(r[0]) for r in rows]

    @_store_errors
    def trials(self) -> list[dict]:
        """Every planned trial, in the order first planned: {id, values, group}."""
        rows = self.conn.execute("SELECT id, plan_values, grp FROM trials ORDER BY position").fetchall()  # type: ignore[union-attr]
        out = []
        for trial_id, text, group in rows:
            values = json.loads(text)
            out.append({"id": trial_id, **({"values": values} if values else {}), **({"group": group} if group else {})})
        return out

    def _import_study_yaml(self) -> None:
        """A study from before the index: its study.yaml's plans and trials."""
        path = self.folder / "study.yaml"
        try:
            earlier = yaml.safe_load(fsio.read_text(path, 64 << 20)) if os.path.lexists(path) else None
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            earlier = None
        if not isinstance(earlier, dict):
            return
        trials = [t for t in earlier.get("trials") or [] if isinstance(t, dict) and "id" in t]
        plans = [p for p in earlier.get("plans") or [] if isinstance(p, dict)]
        if not plans and trials:   # written before plans were recorded: one plan
            plans = [{"axes": earlier.get("axes") or [], "trials": [t["id"] for t in trials],
                      "base": {k: v for k, v in (earlier.get("base") or {}).items()
                               if k not in ("sweep", "name", "description")}}]
        for plan in plans:
            self.add_plan(plan)
        self.add_trials([(str(t["id"]).rsplit("-", 1)[-1], str(t["id"]), t.get("values") or {}, t.get("group"))
                         for t in trials])
        for key in ("study", "base"):
            if earlier.get(key) is not None:
                self.set_meta(key, earlier[key])


    # ------------------------------------------------------------ claims

    def claim(self, config_hash: str) -> Owner | None:
        """Take the trial's claim: None when it is now this process's, else the live owner.
        A claim whose owner provably died is taken over."""
        me = (os.getpid(), socket.gethostname(), boot_id(), process_start(os.getpid()))
        token = uuid.uuid4().hex
        self.tokens[config_hash] = token   # before the insert: an interrupt right after the commit still releases it
        try:
            with self.locked() as conn:
                row = conn.execute("SELECT pid, host, boot, started, since, heartbeat FROM claims "
                                   "WHERE config_hash = ?", (config_hash,)).fetchone()
                if row is not None and _owner(row).alive():
                    del self.tokens[config_hash]
                    return _owner(row)
                now = time.time()
                conn.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (config_hash, token, *me, now, now))
        except sqlite3.Error as exc:
            self.tokens.pop(config_hash, None)
            raise store_error(_os_error(exc, self.path), "a claim in the study's index (.study.db)") from None
        self._start_heartbeat()
        return None

    def release(self, *config_hashes: str) -> None:
        """Give up this process's claims on these trials (no-op for one it does not hold)."""
        tokens = [(h, self.tokens[h]) for h in config_hashes if h in self.tokens]
        if not tokens or self.conn is None:
            return
        with contextlib.suppress(sqlite3.Error, OSError, NnlabError), self.locked() as conn:
            conn.executemany("DELETE FROM claims WHERE config_hash = ? AND token = ?", tokens)
        for config_hash, _ in tokens:
            self.tokens.pop(config_hash, None)

    @_store_errors
    def owners(self) -> dict[str, Owner]:
        """The live claims: config hash -> owner."""
        rows = self.conn.execute("SELECT config_hash, pid, host, boot, started, since, heartbeat "  # type: ignore[union-attr]
                                 "FROM claims").fetchall()
        now = time.time()
        return {row[0]: owner for row in rows if (owner := _owner(row[1:])).alive(now)}

    def _start_heartbeat(self) -> None:
        if self._heartbeat is not None:
            return
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="nnlab-claims", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        """Renew this process's claims until the index is closed (its own connection). A beat
        that fails (the lock busy, a network hiccup) is tried again at the next one."""
        conn = None
        while not self._stop.wait(HEARTBEAT_SECONDS):
            tokens = list(self.tokens.values())
            if not tokens:
                continue
            try:
                conn = conn or self._connect(self.path, timeout=30)
                conn.execute(f"UPDATE claims SET heartbeat = ? WHERE token IN ({', '.join('?' * len(tokens))})",
                             (time.time(), *tokens))
            except sqlite3.Error:   # a missed beat matters only after STALE_SECONDS, and only to other hosts
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def file_system(folder: Path) -> str:
    """The type of the file system a folder is on ('ext4', 'nfs4', ...), from /proc/mounts;
    '' where it cannot be told."""
    try:
        with open("/proc/mounts") as mounts:
            entries = [line.split() for line in mounts]
    except OSError:
        return ""
    where = str(Path(folder).resolve())
    best, kind = "", ""
    for entry in entries:
        if len(entry) >= 3:
            mount = entry[1].replace("\\040", " ")
            if (where == mount or where.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                best, kind = mount, entry[2]
    return kind


def live_owners(study_dir: Path) -> dict[str, Owner]:
    """The live claims of a study, read without writing (empty when it has no index, or the
    index cannot be read from here)."""
    path = Path(study_dir) / DB
    if not path.is_file():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
        try:
            rows = conn.execute("SELECT config_hash, pid, host, boot, started, since, heartbeat FROM claims").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    now = time.time()
    return {row[0]: owner for row in rows if (owner := _owner(row[1:])).alive(now)}


def _os_error(exc: Exception, path: Path) -> OSError:
    if isinstance(exc, OSError):
        return exc
    return OSError(0, str(exc), str(path))
