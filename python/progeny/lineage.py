"""Lineage logs (``progeny run --log FILE``, JSON Lines; README "Lineage log") as objects.

:func:`read_log` gives the records in file order; :func:`processes` folds them into one
:class:`Process` per process, told apart by identity (pidfs ``ino``, else pid and start
time), as the views do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Record:
    """One line of the log. The fields every record has are attributes; the rest (which
    depend on ``event``: ``ppid``, ``argv``, ``code``, ``signal``...) are in ``fields`` and
    reachable with :meth:`get`."""

    v: int
    event: str  # start, fork, exec, exec_failed, setsid, setpgid, exit, signal, timeout, stop, lost
    source: str  # launcher, shim, bpf
    pid: int
    time_ns: int
    fields: Dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """A field of this record, or default when the record does not have it."""
        return self.fields.get(name, default)

    @property
    def ino(self) -> Optional[int]:
        """The process's pidfs inode (its identity), when known."""
        return self.fields.get("ino")

    @property
    def identity(self) -> Union[Tuple[str, int], Tuple[str, int, Optional[int]]]:
        """("ino", ino) when there is one, else ("pid", pid, start_time)."""
        if self.ino is not None:
            return ("ino", self.ino)
        return ("pid", self.pid, self.fields.get("start_time"))


class LogError(ValueError):
    """A line that is not a record of a known schema version (with its line number)."""


def parse_record(line: str, lineno: int = 0) -> Record:
    """One JSON line into a Record; LogError when it is not one."""
    try:
        d = json.loads(line)
        v, event, source, pid, t = d.pop("v"), d.pop("event"), d.pop("source"), d.pop("pid"), d.pop("time_ns")
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise LogError(f"line {lineno}: not a lineage record: {exc}") from None
    if v != SCHEMA_VERSION:
        raise LogError(f"line {lineno}: schema version {v}, this module reads {SCHEMA_VERSION}")
    return Record(v=v, event=event, source=source, pid=pid, time_ns=t, fields=d)


def iter_log(path: str) -> Iterator[Record]:
    """The records of the log at path, in file order (empty lines skipped)."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield parse_record(line, n)


def read_log(path: str) -> List[Record]:
    """Every record of the log at path."""
    return list(iter_log(path))


@dataclass
class Process:
    """One process as the log knows it, whatever sources reported it."""

    pid: int
    ino: Optional[int] = None
    start_time: Optional[int] = None
    ppid: Optional[int] = None  # its creator's pid (the fork record's)
    via: Optional[str] = None
    role: Optional[str] = None  # command, pidns_init, pidns_intermediate (launcher's own)
    argv: Optional[List[str]] = None  # the last exec's
    exit_code: Optional[int] = None
    exit_signal: Optional[str] = None
    called_setsid: bool = False
    called_setpgid: bool = False
    signals: List[str] = field(default_factory=list)  # what the launcher sent it
    records: List[Record] = field(default_factory=list)

    @property
    def escaped(self) -> bool:
        """It left its parent's session or process group."""
        return self.called_setsid or self.called_setpgid


def processes(records: Iterable[Record]) -> List[Process]:
    """One Process per identity, in order of first appearance."""
    by_id: Dict[Any, Process] = {}
    latest_by_pid: Dict[int, Any] = {}

    def key_of(pid: int, ino: Optional[int], start: Optional[int]) -> Any:
        if ino is not None:
            return ("ino", ino)
        if start is not None:
            return ("pid", pid, start)
        return latest_by_pid.get(pid, ("pid", pid, None))

    for r in records:
        if r.event == "signal":
            target = key_of(r.get("target_pid"), r.get("target_ino"), r.get("target_start_time"))
            if target in by_id:
                by_id[target].signals.append(r.get("signal"))
            continue
        if r.event in ("start", "timeout", "stop", "lost"):
            continue
        k = key_of(r.pid, r.ino, r.get("start_time"))
        p = by_id.get(k)
        if p is None:
            p = by_id[k] = Process(pid=r.pid, ino=r.ino, start_time=r.get("start_time"))
        latest_by_pid[r.pid] = k
        p.records.append(r)
        if p.start_time is None:
            p.start_time = r.get("start_time")
        if r.event == "fork":
            p.ppid = p.ppid if p.ppid is not None else r.get("ppid")
            p.via = p.via or r.get("via")
            p.role = p.role or r.get("role")
        elif r.event == "exec" and r.get("argv") is not None:
            p.argv = r.get("argv")
        elif r.event == "exit" and not r.get("unknown"):
            p.exit_code = r.get("code", p.exit_code)
            p.exit_signal = r.get("signal", p.exit_signal)
        elif r.event == "setsid":
            p.called_setsid = True
        elif r.event == "setpgid":
            p.called_setpgid = True
    return list(by_id.values())
