"""Where numba keeps neurocodec's compiled kernels, and compiling them ahead of use.

Every kernel is ``@numba.njit(cache=True)``.  numba caches beside the source (``__pycache__``) or in
the user's cache directory and, when neither is writable (a read-only site-packages and no writable
HOME: containers, shared cluster installs), refuses at import with "cannot cache function ...: no
locator available".  :func:`configure` runs before any kernel is defined (``neurocodec/__init__``
imports this module first) and picks, in order:

1. ``NUMBA_CACHE_DIR`` or the in-tree / user-wide locations, when numba can write one (nothing to do);
2. ``$XDG_CACHE_HOME/neurocodec/numba``, ``~/.cache/neurocodec/numba``, then a per-user directory
   under the system temporary directory: the first writable one becomes numba's cache directory;
3. none writable: neurocodec's kernels compile in memory in every process, with one warning.

:func:`warmup` compiles the kernels a set of codecs uses by coding a small sample with each; the
CLI runs it with a progress bar when it finds no cached kernels, and a cluster runs it once before
handing work to its workers (README, "Many files on a cluster").
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import numba
from numba.core import caching, config
from numba.core.dispatcher import Dispatcher

_PACKAGE_DIR = Path(__file__).resolve().parent

#: How kernels are cached in this process: "numba" (numba's own locations), "dir" (a directory
#: chosen here, :data:`CACHE_DIR`) or "memory" (not cached).
MODE = "numba"
CACHE_DIR: str | None = None


class CompileInMemoryWarning(RuntimeWarning):
    """No writable place for numba's cache: kernels compile in every process (about a minute each)."""


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _numba_can_cache() -> bool:
    # The locations numba itself tries, in its order: NUMBA_CACHE_DIR, __pycache__ beside the
    # source, the user-wide cache directory.
    candidates = []
    if config.CACHE_DIR:
        candidates.append(Path(config.CACHE_DIR))
    candidates.append(_PACKAGE_DIR / "__pycache__")
    user_wide = caching.UserWideCacheLocator(_writable, __file__).get_cache_path()
    candidates.append(Path(user_wide))
    return any(_writable(p) for p in candidates)


def _fallback_dirs() -> list[Path]:
    dirs = []
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        dirs.append(Path(xdg) / "neurocodec" / "numba")
    home = os.path.expanduser("~")
    if home != "~":
        dirs.append(Path(home) / ".cache" / "neurocodec" / "numba")
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    dirs.append(Path(tempfile.gettempdir()) / f"neurocodec-numba-{uid}")
    return dirs


def _is_ours(py_func) -> bool:
    try:
        return Path(py_func.__code__.co_filename).resolve().is_relative_to(_PACKAGE_DIR)
    except (OSError, ValueError):
        return False


def _compile_in_memory() -> None:
    # Dispatcher.enable_caching runs when a `cache=True` function is defined and raises there when
    # no locator works; for neurocodec's own kernels keep numba's no-op cache instead, so they
    # compile per process.  Other packages' kernels keep numba's behaviour.
    original = Dispatcher.enable_caching

    def enable_caching(self):
        if _is_ours(self.py_func):
            return
        original(self)

    Dispatcher.enable_caching = enable_caching


def configure() -> str:
    """Choose where kernels are cached (see the module docstring); returns the mode chosen."""
    global MODE, CACHE_DIR
    if _numba_can_cache():
        MODE = "numba"
        return MODE
    for path in _fallback_dirs():
        if _writable(path):
            config.CACHE_DIR = str(path)
            MODE, CACHE_DIR = "dir", str(path)
            return MODE
    _compile_in_memory()
    MODE = "memory"
    warnings.warn(
        "neurocodec: no writable directory for numba's kernel cache (site-packages, HOME and the "
        "temporary directory are read-only); kernels compile in memory in every process. Set "
        "NUMBA_CACHE_DIR to a writable directory to compile them once.",
        CompileInMemoryWarning, stacklevel=3,
    )
    return MODE


def _samples(codec: str):
    """A small input of the kind ``codec`` takes, large enough to reach every kernel."""
    import numpy as np

    rng = np.random.default_rng(0)
    if codec == "waveform":
        from .synthetic import recording

        return recording(2000, channels=2, seed=3)
    if codec.startswith("spikes_"):
        return rng.random((2000, 4)) < 0.05
    if codec == "mua":
        return rng.poisson(1.0, size=(400, 4)).astype(np.int64)
    return None


#: Codec configurations whose kernels :func:`warmup` compiles by default: the ones a user meets first.
DEFAULT_WARMUP = (("waveform", {"preset": "max"}), ("waveform", {"preset": "fast"}))


def warmup_steps(codecs=None) -> list[tuple[str, dict]]:
    """The (codec name, config) pairs :func:`warmup` codes: ``codecs`` (names or (name, config) pairs),
    ``"all"``, or the defaults."""
    from . import registry

    if codecs is None:
        return list(DEFAULT_WARMUP)
    if codecs == "all":
        names = [n for n in registry.codec_names() if _samples(n) is not None]
    else:
        names = list(codecs)
    steps = []
    for name in names:
        if isinstance(name, tuple):
            steps.append((name[0], dict(name[1])))
        elif name == "waveform":
            steps += [("waveform", {"preset": "max"}), ("waveform", {"preset": "fast"})]
        else:
            steps.append((name, {}))
    return steps


def warmup(codecs=None, progress: bool = False) -> list[tuple[str, dict]]:
    """Compile (or load from the cache) the kernels of ``codecs`` by round-tripping a small sample.

    ``codecs``: codec names, ``"all"``, or None for the waveform presets.  Run it once per machine
    image or before a cluster starts its workers: with a shared or warmed cache, each worker then
    loads the kernels in a fraction of a second instead of compiling them.  Returns the steps run.
    """
    from . import registry
    from ._progress import tqdm

    steps = warmup_steps(codecs)
    with tqdm(total=len(steps), desc="compiling kernels", unit="step", disable=not progress, leave=False) as bar:
        for name, config_ in steps:
            sample = _samples(name)
            if sample is None:  # a codec this module has no sample for: its own tests compile it
                bar.update(1)
                continue
            codec = registry.make_codec(name, **config_)
            codec.decode(codec.encode(sample))
            bar.update(1)
    return steps


def kernels_cached(module_name: str = "neurocodec.waveform._kernels") -> bool:
    """True when numba's cache holds compiled kernels of ``module_name`` (a first run has none)."""
    if MODE == "memory":
        return False
    import importlib

    module = importlib.import_module(module_name)
    # the module's own kernels (not those it imports), each cached as "<module stem>.<qualname>-<line>..."
    own = [v for v in vars(module).values() if isinstance(v, Dispatcher) and v.py_func.__module__ == module_name]
    if not own:
        return True
    stem = Path(module.__file__).stem
    for dispatcher in own:
        path = getattr(dispatcher._cache, "cache_path", None)
        if path and any(Path(path).glob(f"{stem}.{dispatcher.py_func.__qualname__}-*.nbi")):
            return True
    return False


def dispatcher_stats(module_names=None) -> dict:
    """Cache hits and misses (compilations) of neurocodec's kernels in this process, summed."""
    import importlib

    names = module_names or [m for m in list(sys.modules) if m.startswith("neurocodec.")]
    found = []
    for name in names:
        found += [v for v in vars(importlib.import_module(name)).values() if isinstance(v, Dispatcher)]
    if "neurocodec.waveform._kernels" in names:
        # the coder kernels are made per switch setting by a cached factory, not module attributes
        from .waveform import _kernels

        found += [_kernels.coder(mixed, decode, bounded=bounded) for mixed in (False, True) for decode in (False, True)
                  for bounded in (False, True)]
    unique = {id(d): d for d in found}.values()
    return {"cache_hits": sum(sum(d.stats.cache_hits.values()) for d in unique),
            "cache_misses": sum(sum(d.stats.cache_misses.values()) for d in unique)}


configure()
__all__ = ["configure", "warmup", "kernels_cached", "dispatcher_stats", "CompileInMemoryWarning", "numba"]
