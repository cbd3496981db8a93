"""Progress on stderr: tqdm when it is installed (the ``progress`` extra), else a few plain lines.

:func:`tqdm` takes the tqdm arguments neurocodec uses (an iterable or ``total``, ``desc``, ``unit``,
``disable``, ``leave``), so modules import it from here and run the same with or without tqdm.
"""

from __future__ import annotations

import sys
import time


class _Lines:
    """A dependency-free stand-in for a tqdm bar: a line at most every few seconds, and one at the end."""

    def __init__(self, iterable=None, total=None, desc: str = "", unit: str = "it", disable: bool = False):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit, self.disable = iterable, total, desc, unit, disable
        self.n = 0
        self._last = self._start = time.monotonic()

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)

    def update(self, n=1) -> None:
        self.n += n
        now = time.monotonic()
        if not self.disable and (now - self._last >= 2.0 or self.n == self.total):
            self._last = now
            of = f"/{self.total:g}" if self.total else ""
            print(f"{self.desc}: {self.n:g}{of} {self.unit} ({now - self._start:.0f} s)", file=sys.stderr, flush=True)

    def close(self) -> None:
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def tqdm(iterable=None, total=None, desc: str = "", unit: str = "it", disable: bool = False, leave: bool = True,
         **kwargs):
    """A tqdm progress bar on stderr when tqdm is installed, else :class:`_Lines` with the same use."""
    try:
        from tqdm import tqdm as real
    except ImportError:
        return _Lines(iterable, total, desc, unit, disable)
    return real(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave, file=sys.stderr,
                **kwargs)
