"""Atomic file output: a failed run never destroys or half-writes the destination.

The data goes to a temporary file beside the destination, which is renamed over it once complete.
The file ends up with the mode an ordinary ``open(path, "w")`` would give it (0666 less the umask;
``mkstemp`` alone would leave 0600), and errors name the user's path, never the temporary file.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import NeurocodecError


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def same_file(a, b) -> bool:
    """True when paths ``a`` and ``b`` name one file (same path, a hard link or a symlink to it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:   # either does not exist (yet): they cannot be the same file
        return False


def refuse_overwriting_input(src, dst, force: bool = False) -> None:
    """Raise :class:`NeurocodecError` when writing ``dst`` would replace the input ``src`` (unless ``force``)."""
    if not force and same_file(src, dst):
        raise NeurocodecError(
            f"output {dst} is the input file {src}: refusing to replace it (choose another output, or force)"
        )


@contextmanager
def atomic_output(path):
    """A binary file object whose content replaces ``path`` only when the ``with`` block completes."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    with atomic_output(path) as f:
        f.write(data)
