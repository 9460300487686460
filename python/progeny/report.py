"""The verdict of ``progeny run --report FILE`` (docs/report.schema.json) as Python objects."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, List, Optional


@dataclass(frozen=True)
class Leftover:
    """A process still running when progeny's stop began (and ended by it)."""

    pid: int
    ino: Optional[int]
    argv: Optional[List[str]]
    ppid: Optional[int]
    pgid: Optional[int]
    sid: Optional[int]
    creator_pid: Optional[int]
    creator_name: Optional[str]
    escape: str  # setsid, session_of_setsid, setpgid, group_of_setpgid, none, unknown
    escape_text: str
    origin: Optional[str]  # command, adopted, child_of_command, descendant
    holds_output: bool

    @classmethod
    def from_json(cls, d: dict) -> "Leftover":
        creator = d.get("creator") or {}
        escape = d.get("escape") or {}
        return cls(pid=d["pid"], ino=d.get("ino"), argv=d.get("argv"), ppid=d.get("ppid"),
                   pgid=d.get("pgid"), sid=d.get("sid"), creator_pid=creator.get("pid"),
                   creator_name=creator.get("name"), escape=escape.get("kind", "unknown"),
                   escape_text=escape.get("text", ""), origin=d.get("origin"),
                   holds_output=bool(d.get("holds_output")))

    def describe(self) -> str:
        """One line: pid, command line, how it escaped."""
        args = " ".join(self.argv) if self.argv else "?"
        how = f" ({self.escape_text})" if self.escape_text else ""
        return f"{self.pid} {args}{how}"


@dataclass(frozen=True)
class Report:
    """How a run ended: ``status`` as ``$?`` shows it and ``outcome`` saying what it means.

    ``outcome`` is one of command_exited, command_signaled, command_not_found,
    command_not_executable, timeout, runaway, stopped_on_request, progeny_error; ``error``
    is progeny's own message for progeny_error.
    """

    status: int
    outcome: str
    meaning: str
    command_code: Optional[int]
    command_signal: Optional[str]
    error: Optional[str]
    stopped: bool
    stop_why: Optional[str]
    leftovers: List[Leftover]
    survivors: List[str]
    raw: dict = field(repr=False)

    @classmethod
    def from_json(cls, d: dict) -> "Report":
        e, stop = d["exit"], d["stop"]
        return cls(status=e["status"], outcome=e["outcome"], meaning=e["meaning"],
                   command_code=e.get("command_code"), command_signal=e.get("command_signal"),
                   error=e.get("error"), stopped=bool(stop["stopped"]), stop_why=stop.get("why"),
                   leftovers=[Leftover.from_json(x) for x in d.get("leftovers", [])],
                   survivors=list(d.get("survivors", [])), raw=d)


def read_report(path: str) -> Optional[Report]:
    """The report at path, or None when progeny wrote none (it was killed, or never ran)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    data: Any = json.loads(text)
    return Report.from_json(data)
