"""Shared by the progeny Python tests: bounded waits and liveness by command line."""
from __future__ import annotations

import os
import time
from typing import Callable, List


# A shell function: wait_exec PID returns once PID has exec'd sleep (so setsid, an exec and
# the argv are done), bounded. Scripts echo a pid only after it: a stop that came between the
# fork and the exec would find the shell's copy, not the sleep.
WAIT_EXEC = ('wait_exec() { n=0; until [ "$(cat /proc/$1/comm 2>/dev/null)" = sleep ] '
             '|| [ $n -ge 6000 ]; do n=$((n+1)); sleep 0.01; done; }; ')


def alive(pid: int, argv0: str = "sleep") -> bool:
    """pid runs argv0 and is no zombie (a pid alone could have been reused)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z" and bool(cmd) and os.path.basename(cmd[0].decode()) == argv0


def wait_for(cond: Callable[[], bool], bound: float = 60.0) -> bool:
    """Polls cond until true or the (generous: the CI host is loaded) bound passes."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def pids_of(text: bytes) -> List[int]:
    """The numbers a test's shell echoed, one per line."""
    return [int(x) for x in text.split() if x.isdigit()]
