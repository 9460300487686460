"""Where the ``progeny`` binary is: the one this module was installed with, else PATH."""
from __future__ import annotations

import os
import shutil

from .errors import ProgenyError

#: Environment variable naming the binary to use, ahead of any other place.
BINARY_ENV = "PROGENY_BINARY"


def find_binary() -> str:
    """Return the path of the ``progeny`` binary this module drives.

    In order: ``$PROGENY_BINARY``; ``PREFIX/bin/progeny`` for the PREFIX ``make install``
    put this module under (recorded in ``_installed.py`` at install time, so the module and
    the binary always agree); ``progeny`` on ``PATH``. Raises :class:`ProgenyError` when
    none exists.
    """
    override = os.environ.get(BINARY_ENV)
    if override:
        return override
    try:
        from ._installed import BINARY  # written by `make install`
    except ImportError:
        BINARY = None
    if BINARY and os.access(BINARY, os.X_OK):
        return BINARY
    found = shutil.which("progeny")
    if found:
        return found
    raise ProgenyError("progeny binary not found (set $PROGENY_BINARY or put progeny on PATH)")
