"""Every example in README.md and docs/*.md runs as written.

Python blocks run in a folder holding the files they name (``recording.npy``, ``a.wav``,
``rec.ap.bin`` + ``.meta``, ...); shell lines run there with bash, except the ones that install,
run the test suite or benchmarks, or take minutes (listed in ``EXPENSIVE``, each skip says why).
Blocks without a language tag are layouts, not examples.  A block that needs an extra skips with
its name when the extra is missing (CI's SpikeInterface environment runs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocodec.io import wav
from neurocodec.synthetic import recording

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Shell commands not run here, and why.
EXPENSIVE = {
    "pip install": "installs packages (CI's own first line)",
    "python3 -m venv": "creates an environment (CI's own first line)",
    "python -m pytest": "the test suite itself",
    "benchmarks/": "a benchmark: minutes, and its figures are in the docs",
    "challenge-exe": "times process pairs (tests/test_challenge.py covers it)",
    "neurocodec mua ": "MUA commands need the shared recordings (tests/test_mua_cli.py covers them)",
    "iverilog": "needs Icarus Verilog",
    "vvp ": "needs Icarus Verilog",
    "M1=": "names the shared data",
}
#: Files owned by another branch while this test landed, with the reason they are not run yet.
PENDING: dict[str, str] = {}
EXTRAS = {"spikeinterface": "spikeinterface", "dask": "dask", "zarr": "zarr"}


def _blocks():
    for doc in DOCS:
        rel = doc.relative_to(ROOT).as_posix()
        lang, start, lines = None, 0, []
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            fence = re.match(r"^```(\w*)\s*$", line)
            if fence and lang is None:
                lang, start, lines = fence.group(1) or "", number, []
            elif fence:
                if lang in ("python", "bash"):
                    yield pytest.param(rel, lang, "\n".join(lines), id=f"{rel}:{start}")
                lang = None
            elif lang is not None:
                lines.append(line)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    x = recording(40000, channels=8, seed=50)
    np.save(root / "recording.npy", x)
    for name in ("a.wav", "IN.wav"):
        (root / name).write_bytes(wav.write_bytes(recording(20000, seed=51), 19531))
    (root / "DATA").mkdir()
    for i in range(2):
        (root / "DATA" / f"r{i}.wav").write_bytes(wav.write_bytes(recording(5000, seed=52 + i), 19531))
    (root / "rec.ap.bin").write_bytes(x.tobytes())
    (root / "rec.ap.meta").write_text("nSavedChans=8\nimSampRate=30000\ntypeThis=imec\n")
    return root


def _shell_lines(code: str):
    joined = code.replace("\\\n", " ")
    for line in joined.splitlines():
        command = line.split("  #")[0].strip()
        if command and not command.startswith("#"):
            yield command


@pytest.mark.parametrize(("doc", "lang", "code"), list(_blocks()))
def test_documented_example_runs(doc, lang, code, sandbox, monkeypatch):
    if doc in PENDING:
        pytest.skip(PENDING[doc])
    monkeypatch.chdir(sandbox)
    if lang == "python":
        for module, extra in EXTRAS.items():
            if re.search(rf"^\s*(import|from) {module}\b", code, re.M):
                pytest.importorskip(module, reason=f"needs the {extra} extra")
        if "neurocodec.zarr3" in code:
            zarr = pytest.importorskip("zarr")
            if int(zarr.__version__.split(".")[0]) < 3:
                pytest.skip(f"a zarr 3 example; this environment has zarr {zarr.__version__}")
        exec(compile(code, f"{doc} block", "exec"), {"__name__": "__docs__"})
        return
    ran = 0
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for command in _shell_lines(code):
        if any(pattern in command for pattern in EXPENSIVE):
            continue
        if command.split()[0] not in ("neurocodec", "cmp") or shutil.which(command.split()[0], path=env["PATH"]) is None:
            pytest.fail(f"{doc}: shell line runs an unexpected program: {command!r} (add it to EXPENSIVE or run it)")
        out = subprocess.run(["bash", "-c", command], cwd=sandbox, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, f"{doc}: {command!r} failed:\n{out.stderr[-2000:]}"
        ran += 1
    if not ran:
        pytest.skip("every line of this block is in EXPENSIVE")
