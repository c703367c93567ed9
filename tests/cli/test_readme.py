"""Every command block in the README runs, in the order a reader meets them.

Blocks are fenced by kind: ``sh`` (commands), ``console`` (``$ command`` lines followed by
what it printed), ``python`` (notebook code: run in the same scratch folder, after the
commands before it), ``yaml`` (configs: validated in test_configs.py) and ``text`` (not
commands: error messages, a folder layout). Every command is checked by ``bash -n`` (an
unquoted ``range(0,5)`` was a shell syntax error once) and then:

* ``nnlab ...`` (also as ``.venv/bin/nnlab`` with ``NNLAB_DATA=...`` before it) runs in a
  scratch folder holding the repository's configs/, in README order, and must exit 0;
  for ``console`` blocks, each printed line that does not depend on timing must appear in
  the real output when the arithmetic is the one the README was written with;
* ``.venv/bin/python benchmarks/...`` and ``.venv/bin/pytest ...`` run as subprocesses;
* the set-up commands CI runs itself (``make run|test|test-fast|lint`` and the by-hand
  ``python3 -m venv ...`` / ``NNLAB_DATA=... .venv/bin/...`` lines) are checked with
  ``make -n`` and ``bash -n``; the by-hand ``nnlab run configs/mnist.yaml`` is run all the
  same, as the next block's ``$ nnlab run configs/mnist.yaml``.

The Dask example is followed as a reader would: ``dask scheduler`` is started on loopback
from an environment like a shell's (without the kernel pins importing nnlab sets in this
process), and each ``nnlab worker tcp://HOST:8786`` line starts a worker process the same
way, pointed at it. The one substitution is that address, the reader's own.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, arithmetic_differs, mnist_available

pytestmark = pytest.mark.slow

# What CI runs itself: `make run|test`, and the by-hand set-up (.venv/bin/... lines before
# the package is installed in a fresh clone).
SETUP = re.compile(r"^(make (run|test|test-all|test-fast|lint|studies)\b|python3 -m venv|NNLAB_DATA=\S+ \.venv/bin/)")
TIMING = re.compile(r"\d+(\.\d+)?\s?(s|ms)(/epoch)?\b|ETA")


def readme_blocks():
    """(kind, [(command, [printed lines])]) for every sh/console block, in order."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for kind, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
        assert kind in ("sh", "console", "python", "yaml", "text"), f"README block without a kind: ```{kind}\n{body[:80]}"
        if kind == "python":
            blocks.append((kind, [(body, [])]))
            continue
        if kind not in ("sh", "console"):
            continue
        commands = []
        for line in body.splitlines():
            if kind == "sh" and line.strip():
                commands.append((line, []))
            elif kind == "console" and line.startswith("$ "):
                commands.append((line[2:], []))
            elif kind == "console" and commands:
                commands[-1][1].append(line)
        blocks.append((kind, commands))
    return blocks


def words(command: str) -> list[str]:
    """The command's words as the shell reads them (comments dropped, env assignments and
    the .venv/bin/ prefix removed)."""
    parts = shlex.split(command, comments=True)
    while parts and re.fullmatch(r"[A-Z_]+=.*", parts[0]):
        parts.pop(0)
    if parts and parts[0].startswith(".venv/bin/"):
        parts[0] = parts[0][len(".venv/bin/"):]
    return parts


PINS = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NNLAB_PINNED")


def shell_env() -> dict:
    """A user's shell: none of the kernel pins that importing nnlab set in this process."""
    return {k: v for k, v in os.environ.items() if k not in PINS}


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """`dask scheduler`, on loopback, and ``start_worker(args)`` for the README's worker lines."""
    from distributed import Client

    bin_dir = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin" / "dask").exists() else None
    dask = str(bin_dir / "dask") if bin_dir else shutil.which("dask")
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = str(folder / "scheduler.json")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", scheduler_file], env=shell_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]

    def start_worker(command: list[str]) -> None:
        """A README line such as `nnlab worker tcp://HOST:8786`, run as a process of its own."""
        with Client(scheduler_file=scheduler_file, timeout=60) as client:
            address = client.scheduler.address
            count = len(client.scheduler_info()["workers"])
            nnlab = str(Path(sys.executable).with_name("nnlab"))
            args = [address if "8786" in word else word for word in command[1:]]
            procs.append(subprocess.Popen([nnlab, *args, "--host", "127.0.0.1", "--no-dashboard"], cwd=folder,
                                          env=shell_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            client.wait_for_workers(count + 1, timeout=60)

    start_worker.file = scheduler_file
    yield start_worker
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait(timeout=30)


def test_every_readme_command_runs(cli, tmp_path, dask_scheduler):
    if not mnist_available():
        pytest.skip("the README's main examples train on MNIST: set NNLAB_DATA to a folder holding mnist/")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    same_arithmetic = arithmetic_differs() is None
    ran = 0
    for kind, commands in readme_blocks():
        for command, printed in commands:
            if kind == "python":
                import matplotlib

                matplotlib.use("Agg")
                exec(compile(command, "README.md (python block)", "exec"), {})
                ran += 1
                continue
            check = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True)
            assert check.returncode == 0, f"README command is not valid shell: {command}\n{check.stderr}"
            parts = words(command)
            if SETUP.match(command):
                if parts[0] == "make":
                    dry = subprocess.run(["make", "-n", parts[1]], cwd=ROOT, capture_output=True, text=True)
                    assert dry.returncode == 0, f"make {parts[1]}: {dry.stderr}"
                continue
            if parts[:2] == ["dask", "scheduler"]:
                continue   # the fixture's: on loopback, where this test can find it
            if parts[:2] == ["nnlab", "worker"]:
                dask_scheduler(parts)
                ran += 1
                continue
            if parts[0] == "nnlab":
                if "--scheduler" in parts:
                    parts[parts.index("--scheduler") + 1] = dask_scheduler.file
                code, out, err = cli(*parts[1:])
                assert code == 0, f"README command failed: {command}\n{out}\n{err}"
                if kind == "console" and same_arithmetic:
                    for line in printed:
                        expected = line.rstrip(" .").removesuffix(", ...")
                        if expected and not TIMING.search(expected) and expected != "..":
                            assert expected in out + err, f"README shows a line nnlab no longer prints:\n{line}"
            elif parts[0] == "python" and parts[1].startswith("benchmarks/"):
                result = subprocess.run([sys.executable, str(ROOT / parts[1]), *parts[2:]], cwd=tmp_path,
                                        capture_output=True, text=True, timeout=600)
                assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
                assert result.stdout.strip(), command
            elif parts[:3] == ["python", "-m", "nnlab.studies"]:
                result = subprocess.run([sys.executable, "-m", "nnlab.studies", *parts[3:]], cwd=tmp_path,
                                        capture_output=True, text=True, timeout=600)
                assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
                assert "wrote docs/studies.md" in result.stdout, result.stdout
            elif parts[0] == "pytest":
                result = subprocess.run([sys.executable, "-m", "pytest", *parts[1:], "-p", "no:cacheprovider"],
                                        cwd=ROOT, capture_output=True, text=True, timeout=600)
                assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}"
            else:
                raise AssertionError(f"the README test does not know how to run: {command}")
            ran += 1
    assert ran >= 10
    if same_arithmetic:  # the README's study is a shipped config: its trials keep their fingerprints
        import json

        golden = json.loads((ROOT / "tests" / "fingerprints.json").read_text())["sweeps"]["bn_placement"]
        found = {p.parent.name.rsplit("-", 1)[0]: json.loads(p.read_text())["fingerprint"]
                 for p in (tmp_path / "results" / "bn_placement").glob("*/summary.json")}
        assert found == golden
