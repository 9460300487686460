"""Exceptions: progeny's own errors and leaked processes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from .report import Leftover, Report


class ProgenyError(Exception):
    """progeny itself failed (its exit status 125 with ``exit.outcome == "progeny_error"``).

    ``message`` is the one line the launcher printed, read from its ``--report`` (never
    parsed from stderr); ``report`` is that report, or None when there was none.
    """

    def __init__(self, message: str, report: "Optional[Report]" = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report


class LeakError(AssertionError):
    """Processes outlived the block that started them (see :func:`progeny.no_leaks`).

    An AssertionError, so unittest and pytest report it as a test failure. ``leaked``
    describes each process found (they have been stopped by the time this is raised).
    """

    def __init__(self, leaked: "Sequence[Leftover]") -> None:
        lines = [f"{len(leaked)} process(es) outlived the block:"]
        lines += [f"  {p.describe()}" for p in leaked]
        super().__init__("\n".join(lines))
        self.leaked = list(leaked)
