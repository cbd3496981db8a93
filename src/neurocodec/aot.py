"""Ahead-of-time build of the waveform kernels into a native library the challenge executables load.

``eval.sh`` starts one process per file, so what a process imports is most of what it costs: numba
alone takes ~0.5 s of CPU to import, NumPy ~0.15 s.  :func:`build` compiles the very kernels the
library runs (``waveform._kernels``) with numba's AOT compiler (``numba.pycc``) into a plain shared
library with C entry points over raw buffers, linked with numba's own C runtime (``nrt.cpp``, for
the scratch arrays the kernels allocate).  :mod:`neurocodec.standalone` drives it through
``ctypes`` with nothing but the standard library: no numba, no NumPy, no cache, no virtualenv.

Every entry point returns an ``int64`` and takes a pointer to it and an exception pointer first
(numba's calling convention), then the arguments of the kernel, arrays as (pointer, length...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numba as nb
import numpy as np
from numba import carray
from numba import types as nt

from .errors import NeurocodecError
from .waveform import _kernels as K
from .waveform import lossless

LIBRARY_NAME = "libneurocodec_waveform.so"
_I64, _PI64, _PU8 = nt.int64, nt.CPointer(nt.int64), nt.CPointer(nt.uint8)
_PI16 = nt.CPointer(nt.int16)
_MAX_ORDER = lossless.MAX_ORDER
_N_PARAMS = K.N_PARAMS
_STATE_WIDTH = lossless.MAX_ORDER + K.STATE_EXTRA

_INIT_SOURCE = """
#include "nrt.h"
/* the kernels allocate their scratch arrays through numba's runtime, which needs its allocator set */
extern "C" void nc_runtime_init(void) { NRT_MemSys_init(); }
"""


def _coder_entry(kernel):
    def entry(levels_p, n_ch, n_t, lo_p, hi_p, coefs_p, orders_p, shifts_p, means_p, near, model_p, model_n,
              params_p, buf_p, buf_n, start, end, raw_p, raw_n, state_p, out_p):
        levels = carray(levels_p, (n_ch, n_t))
        coefs = carray(coefs_p, (n_ch, _MAX_ORDER))
        state = carray(state_p, (n_ch, _STATE_WIDTH))
        pos, raw_bits, status = kernel(levels, carray(lo_p, n_ch), carray(hi_p, n_ch), coefs,
                                       carray(orders_p, n_ch), carray(shifts_p, n_ch), carray(means_p, n_ch),
                                       near, carray(model_p, model_n), carray(params_p, _N_PARAMS),
                                       carray(buf_p, buf_n), start, end, carray(raw_p, raw_n), state)
        out = carray(out_p, 2)
        out[0] = pos
        out[1] = raw_bits
        return status

    return entry


_CODER_SIG = _I64(_PI64, _I64, _I64, _PI64, _PI64, _PI64, _PI64, _PI64, _PI64, _I64, _PI64, _I64, _PI64,
                  _PU8, _I64, _I64, _I64, _PU8, _I64, _PI64, _PI64)


def _analyse(levels_p, n_ch, n_t, order, near, cross_channel, top, lo_p, coefs_p, orders_p, shifts_p, means_p):
    K.analyse_channels(carray(levels_p, (n_ch, n_t)), order, near, cross_channel != 0, top, carray(lo_p, n_ch),
                       carray(coefs_p, (n_ch, _MAX_ORDER)), carray(orders_p, n_ch), carray(shifts_p, n_ch),
                       carray(means_p, n_ch))
    return 0


@nb.njit(cache=True)
def map_flat(samples, index, offset, out):
    """``K.map_through`` for 1-D input: its ``ravel`` would need numba's C helper library at run time."""
    for i in range(samples.shape[0]):
        v = index[np.int64(samples[i]) + offset]
        if v < 0:
            return False
        out[i] = v
    return True


def _map_through(samples_p, n, index_p, index_n, offset, out_p):
    return 1 if map_flat(carray(samples_p, n), carray(index_p, index_n), offset, carray(out_p, n)) else 0


@nb.njit(cache=True)
def take_int16(levels, table, out):
    """``out = table[levels]`` for levels the decoder has checked against the table's size."""
    for i in range(levels.shape[0]):
        out[i] = table[levels[i]]


def _take_int16(levels_p, n, table_p, table_n, out_p):
    take_int16(carray(levels_p, n), carray(table_p, table_n), carray(out_p, n))
    return 0


@nb.njit(cache=True)
def sample_range(samples, out):
    """``out = (min, max)`` of a non-empty series."""
    lo = hi = samples[0]
    for i in range(1, samples.shape[0]):
        v = samples[i]
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    out[0] = lo
    out[1] = hi


def _sample_range(samples_p, n, out_p):
    sample_range(carray(samples_p, n), carray(out_p, 2))
    return 0


def _entries():
    from numba.pycc.compiler import ExportEntry

    entries = []
    for mixed, tag in ((True, "max"), (False, "fast")):
        for decode, way in ((False, "encode"), (True, "decode")):
            entries.append(ExportEntry(f"nc_{way}_{tag}", _CODER_SIG, _coder_entry(K.coder(mixed, decode, cached=False))))
    entries.append(ExportEntry("nc_analyse", _I64(_PI64, _I64, _I64, _I64, _I64, _I64, _I64, _PI64, _PI64, _PI64,
                                                  _PI64, _PI64), _analyse))
    entries.append(ExportEntry("nc_map_through", _I64(_PI16, _I64, _PI64, _I64, _I64, _PI64), _map_through))
    entries.append(ExportEntry("nc_take_int16", _I64(_PI64, _I64, _PI64, _I64, _PI16), _take_int16))
    entries.append(ExportEntry("nc_sample_range", _I64(_PI16, _I64, _PI64), _sample_range))
    return entries


def build(directory, *, cpu: str = "host", compiler: str | None = None) -> Path:
    """Compile the kernels into ``directory/LIBRARY_NAME`` and return its path.

    ``cpu="host"`` tunes the code for this machine's processor (the executables run where they
    are built); ``""`` gives code for any x86-64.  Needs a C++ compiler (``$CXX``, else ``g++``).
    """
    with warnings.catch_warnings():
        # pycc is "pending deprecation" with no replacement yet (numba 0.57-0.68); it is what compiles
        # numba kernels ahead of time today
        warnings.simplefilter("ignore", nb.NumbaPendingDeprecationWarning)
        from numba.pycc.compiler import ModuleCompiler

    cxx = compiler or os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise NeurocodecError("building the challenge executables needs a C++ compiler (g++); none found")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    numba_dir = Path(nb.__file__).resolve().parent
    runtime_dir = numba_dir / "core" / "runtime"
    with tempfile.TemporaryDirectory() as tmp:
        obj = Path(tmp) / "kernels.o"
        ModuleCompiler(_entries(), "neurocodec_waveform", use_nrt=True, cpu_name=cpu).write_native_object(
            str(obj), wrap=False)
        init = Path(tmp) / "init.cpp"
        init.write_text(_INIT_SOURCE)
        out = Path(tmp) / LIBRARY_NAME
        cmd = [cxx, "-O2", "-fPIC", "-shared", "-o", str(out), str(obj), str(runtime_dir / "nrt.cpp"), str(init),
               f"-I{numba_dir}", f"-I{runtime_dir}"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise NeurocodecError(f"linking the kernel library failed: {' '.join(cmd)}\n{run.stderr.strip()}")
        target = directory / LIBRARY_NAME
        shutil.copyfile(out, target)
        target.chmod(0o755)
    return target
