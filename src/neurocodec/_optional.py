"""Optional dependencies: import one, or say in one line which extra installs it."""

from __future__ import annotations

import importlib

from .errors import NeurocodecError


class MissingDependencyError(NeurocodecError, ImportError):
    """An optional package neurocodec needs for this feature is not installed."""


def require(module: str, extra: str, feature: str):
    """``import module``, or :class:`MissingDependencyError` naming ``pip install "neurocodec[extra]"``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{feature} needs {module.split('.')[0]}, which is not installed: pip install \"neurocodec[{extra}]\""
        ) from None
