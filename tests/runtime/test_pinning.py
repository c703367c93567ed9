"""Portable bytes: the nnlab command pins OpenBLAS's kernel family (and NumPy's AVX-512
dispatch) before NumPy loads, records what held, and `reproduce` names what differs."""

import json
import os
import platform
import subprocess
import sys

import pytest

from nnlab.runtime.pinning import _cpu_flags, differences

from conftest import trials_in, write

AVX2 = platform.machine() == "x86_64" and {"avx2", "fma"} <= _cpu_flags()
CONFIG = "name: p\ndata: {name: xor, n_samples: 100, n_test: 20}\nmodel: {hidden: [4]}\ntrain: {epochs: 2}\n"


def unpinned_environment() -> dict:
    """os.environ without the pins (and their mark) this test process set on importing nnlab."""
    return {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "NNLAB_NATIVE_KERNELS", "NPY_DISABLE_CPU_FEATURES", "NNLAB_PINNED")}


def nnlab(cwd, *args, **env):
    return subprocess.run([sys.executable, "-m", "nnlab", *args], cwd=cwd, capture_output=True, text=True,
                          env={**unpinned_environment(), **env}, timeout=300)


def summary(folder):
    (trial,) = trials_in(folder)
    return trial, json.loads((trial / "summary.json").read_text())


@pytest.mark.slow
@pytest.mark.skipif(not AVX2, reason="the kernel pin is for AVX2 x86-64 CPUs")
def test_a_forced_kernel_family_is_overridden_and_recorded(tmp_path):
    write(tmp_path / "c.yaml", CONFIG)
    for out, env in (("plain", {}), ("forced", {"OPENBLAS_CORETYPE": "Sandybridge"}),
                     ("native", {"OPENBLAS_CORETYPE": "Sandybridge", "NNLAB_NATIVE_KERNELS": "1"})):
        result = nnlab(tmp_path, "run", "c.yaml", "-q", "-o", out, **env)
        assert result.returncode == 0, result.stderr
    _, plain = summary(tmp_path / "plain" / "p")
    _, forced = summary(tmp_path / "forced" / "p")
    native_trial, native = summary(tmp_path / "native" / "p")
    assert plain["environment"]["blas_kernel"] == forced["environment"]["blas_kernel"] == "Haswell"
    assert plain["environment"]["pin"]["pinned"] and forced["environment"]["pin"]["pinned"]
    assert plain["fingerprint"] == forced["fingerprint"]                 # the pin held against the override
    assert native["environment"]["blas_kernel"] == "Sandybridge" and not native["environment"]["pin"]["pinned"]
    assert "NNLAB_NATIVE_KERNELS=1" in native["environment"]["pin"]["why"]
    assert {"numpy", "blas", "blas_version", "numpy_dispatch", "cpu"} <= set(native["environment"])
    # Sandybridge kernels give other bytes; reproducing that trial pinned says why it differs
    result = nnlab(tmp_path, "reproduce", str(native_trial))
    if native["fingerprint"] != plain["fingerprint"]:
        assert result.returncode == 1 and "BLAS kernel: Haswell here, Sandybridge when recorded" in result.stderr


def arithmetic_in(code):
    """The arithmetic record of a fresh interpreter that runs `code` (imports) first."""
    script = f"{code}\nimport json\nfrom nnlab.runtime.pinning import arithmetic\nprint(json.dumps(arithmetic(1)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=unpinned_environment(), timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not AVX2, reason="the kernel pin is for AVX2 x86-64 CPUs")
def test_importing_nnlab_first_pins_the_kernels():
    # python -m nnlab.studies, the tests and notebooks compute with the command's kernels;
    # on an AVX-512 machine the suite once ran its in-process trials on SkylakeX kernels
    record = arithmetic_in("import nnlab\nimport numpy")
    assert record["pin"]["pinned"] and record["blas_kernel"] == "Haswell"
    assert not {"X86_V4", "AVX512_SKX"} & set(record["numpy_dispatch"])


def test_no_pin_once_numpy_is_loaded():
    record = arithmetic_in("import numpy\nimport nnlab")
    assert not record["pin"]["pinned"] and "NumPy was loaded before" in record["pin"]["why"]


@pytest.mark.skipif(not AVX2, reason="the kernel pin is for AVX2 x86-64 CPUs")
@pytest.mark.skipif(os.environ.get("NNLAB_NATIVE_KERNELS") == "1", reason="NNLAB_NATIVE_KERNELS=1: the suite runs on "
                    "the machine's own kernels, as asked")
def test_the_test_process_is_pinned():
    from nnlab.runtime.pinning import arithmetic

    assert arithmetic(1)["blas_kernel"] == "Haswell", "conftest must import nnlab before anything loads NumPy"


def test_differences_name_each_component():
    stored = {"nnlab": "0.1.0", "numpy": "2.4.6", "blas_kernel": "SkylakeX", "numpy_dispatch": ["X86_V4"],
              "blas_threads": 1, "blas_version": "0.3.31"}
    current = {**stored, "blas_kernel": "Haswell", "numpy_dispatch": ["X86_V3"]}
    assert differences(stored, current) == ["BLAS kernel: Haswell here, SkylakeX when recorded",
                                            "NumPy CPU features: ['X86_V3'] here, ['X86_V4'] when recorded"]
    assert differences(stored, stored) == []


def test_the_record_names_numpys_blas_even_when_scipy_has_loaded_its_own():
    """Review: loading the fused kernel loads SciPy's OpenBLAS too, and threadpoolctl lists the
    two in an order that changes with the hash seed: summary.json named either one."""
    code = ("import nnlab, scipy.linalg; from threadpoolctl import threadpool_info; from nnlab.train.trial import environment; "
            "import json; mine = [i['version'] for i in threadpool_info() if 'numpy' in i.get('filepath', '')]; "
            "blas = {i['filepath'] for i in threadpool_info() if i.get('user_api') == 'blas'}; "
            "print(json.dumps([environment()['blas_version'], mine, len(blas)]))")
    seen = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        recorded, numpys, loaded = json.loads(out.stdout)
        if not numpys:
            pytest.skip("NumPy's BLAS is not in numpy.libs here (a system BLAS): nothing to tell apart")
        assert loaded >= 1 and recorded == numpys[0], seed
        seen.add(recorded)
    assert len(seen) == 1
