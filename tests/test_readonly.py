"""neurocodec imports and round-trips from a read-only install with no writable HOME.

The package is copied to a directory without write bits and run in a subprocess that cannot write
it: as root (CI) with every capability dropped (so permission bits bind root too), else as the
user.  HOME is read-only; the temporary directory is writable in one case (kernels are cached
there) and read-only in the other (kernels compile in memory, with one warning).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import neurocodec

SCRIPT = """
import tempfile, sys, warnings
if sys.argv[1] != "-":
    tempfile.tempdir = sys.argv[1]
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import neurocodec, neurocodec.synthetic
    from neurocodec import _jit
assert neurocodec.__file__.startswith(sys.argv[2]), neurocodec.__file__
x = neurocodec.synthetic.recording(3000, channels=2, seed=5)
y = neurocodec.decompress(neurocodec.compress(x, preset="fast"))
assert (x == y).all() and x.dtype == y.dtype
ours = [w for w in caught if issubclass(w.category, _jit.CompileInMemoryWarning)]
print(_jit.MODE, len(ours), _jit.CACHE_DIR)
"""


def _locked(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _unlock(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(scope="module")
def readonly_install(tmp_path_factory):
    root = tmp_path_factory.mktemp("ro")
    site = root / "site"
    shutil.copytree(Path(neurocodec.__file__).parent, site / "neurocodec",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    (root / "home").mkdir()
    (root / "tmp-ro").mkdir()
    (root / "tmp-rw").mkdir()
    for p in (site, root / "home", root / "tmp-ro"):
        _locked(p)
    prefix = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop the capability that ignores write bits")
        prefix = [setpriv, "--bounding-set=-all", "--inh-caps=-all"]
    probe = subprocess.run([*prefix, sys.executable, "-c",
                            f"open({str(site / 'probe')!r}, 'w')"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this environment writes through missing write bits; cannot simulate a read-only install")
    yield root, prefix
    for p in (site, root / "home", root / "tmp-ro"):
        _unlock(p)


def _run(readonly_install, tmpdir: str) -> list[str]:
    root, prefix = readonly_install
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_", "PYTHON"))}
    env.update(HOME=str(root / "home"), PYTHONPATH=str(root / "site"), TMPDIR=str(root / "home"))
    out = subprocess.run([*prefix, sys.executable, "-c", SCRIPT, tmpdir, str(root / "site")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.split()


def test_kernels_cache_in_a_writable_temporary_directory(readonly_install):
    root, _ = readonly_install
    mode, warned, cache_dir = _run(readonly_install, str(root / "tmp-rw"))
    assert (mode, warned) == ("dir", "0")
    assert Path(cache_dir).is_relative_to(root / "tmp-rw")
    assert any(Path(cache_dir).rglob("*.nbi")), "no kernel was cached"


def test_kernels_compile_in_memory_when_nothing_is_writable(readonly_install):
    root, _ = readonly_install
    mode, warned, _ = _run(readonly_install, str(root / "tmp-ro"))
    assert (mode, warned) == ("memory", "1")
