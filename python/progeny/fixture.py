"""``no_leaks()``: fail a test whose code leaves processes behind.

The test process becomes a child subreaper for the block (prctl PR_SET_CHILD_SUBREAPER), so
whatever the code under test starts stays its descendant even after a double fork or setsid
(orphans are re-parented to the nearest subreaper, not to init): a walk of
/proc/PID/task/*/children then finds every process the block left, however it escaped. Those
are stopped with ``progeny kill`` (the same verified stop as ``progeny run``'s) and the block
fails with :class:`LeakError`.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import time
from typing import Dict, Iterator, List, Optional, Tuple

from ._binary import find_binary
from .errors import LeakError
from .report import Leftover

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37

Identity = Tuple[int, int]  # (pid, start time in clock ticks): a pid alone can be reused


def _prctl(option: int, arg: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0)
    if rc != 0:
        raise OSError(ctypes.get_errno(), "prctl failed")
    return rc


def _subreaper() -> bool:
    flag = ctypes.c_int(0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl failed")
    return bool(flag.value)


def _stat(pid: int) -> Optional[Tuple[str, int, int, int, int]]:
    """(state, ppid, pgid, sid, start time) from /proc/PID/stat; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return (fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]))


def _children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def _descendants(root: int) -> Dict[Identity, int]:
    """Every live (non-zombie) descendant of root, by identity -> ppid."""
    found: Dict[Identity, int] = {}
    todo = _children(root)
    while todo:
        pid = todo.pop()
        st = _stat(pid)
        if st is None:
            continue
        if st[0] != "Z":
            found[(pid, st[4])] = st[1]
        todo += _children(pid)
    return found


def _describe(pid: int, ppid: int) -> Leftover:
    st = _stat(pid)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        argv = None
    pgid, sid = (st[2], st[3]) if st else (None, None)
    escape = "called setsid or is in such a session" if st and sid == pid else ""
    return Leftover(pid=pid, ino=None, argv=argv, ppid=ppid, pgid=pgid, sid=sid,
                    creator_pid=None, creator_name=None,
                    escape="setsid" if escape else "unknown", escape_text=escape,
                    origin=None, holds_output=False)


@contextlib.contextmanager
def no_leaks(settle: float = 1.0, stop: bool = True) -> Iterator[None]:
    """Fail (LeakError) when processes started inside the block are still running after it.

    ``settle``: seconds the leftovers get to exit on their own (a pool's workers reading EOF)
    before they count; the check ends as soon as none is left. With ``stop`` (the default)
    the leaked processes are stopped with ``progeny kill`` before LeakError is raised, so a
    failing test cleans up after itself. Processes that existed before the block are never
    counted. When the block raises, its exception goes through unchanged and nothing is
    checked or stopped (the test fails already). Zombies are not processes that run: they are not counted (the test process,
    being a subreaper during the block, may inherit some; they are reaped when it exits).
    Usable as a unittest fixture: ``self.enterContext(progeny.no_leaks())`` (Python 3.11)
    or ``with progeny.no_leaks():`` in the test body.
    """
    me = os.getpid()
    before = set(_descendants(me))
    was_subreaper = _subreaper()
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
        deadline = time.monotonic() + settle
        while True:
            left = {k: v for k, v in _descendants(me).items() if k not in before}
            if not left or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        if not left:
            return
        leaked = [_describe(pid, ppid) for (pid, _), ppid in sorted(left.items())]
        if stop:
            _stop([pid for pid, _ in left])
            _reap([pid for pid, _ in left])
        raise LeakError(leaked)
    finally:
        if not was_subreaper:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)


def _reap(pids: List[int], bound: float = 5.0) -> None:
    """Reap the stopped processes that are our children now (we were their subreaper):
    bounded, and never blocking on one that did not die."""
    deadline = time.monotonic() + bound
    for pid in pids:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours (a descendant's child): its parent reaps it
                break
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.01)


def _stop(pids: List[int]) -> None:
    """Stop pids and their descendants through progeny kill (pidfd-verified)."""
    subprocess.run([find_binary(), "kill", "-k", "1s", "--", *map(str, pids)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
