"""progeny.Popen: terminate(), kill(), wait() and the context manager on whole trees."""
from __future__ import annotations

import signal
import subprocess
import time
import unittest

import progeny

from .helpers import WAIT_EXEC, alive, pids_of

# Two sleeps, one in a session of its own, their pids on stdout, then sh waits.
TREE = WAIT_EXEC + "setsid sleep 100 & wait_exec $!; echo $!; sleep 100 & wait_exec $!; echo $!; wait"


def start(script: str = TREE, **kw: object) -> "tuple[progeny.Popen, list[int]]":
    p = progeny.Popen(["sh", "-c", script], stdout=subprocess.PIPE, **kw)  # type: ignore[arg-type]
    assert p.stdout is not None
    pids = [int(p.stdout.readline()), int(p.stdout.readline())]
    return p, pids


class PopenTest(unittest.TestCase):
    def test_terminate_stops_the_whole_tree(self) -> None:
        p, pids = start()
        with p:
            self.assertTrue(all(alive(x) for x in pids))
            p.terminate()
            self.assertEqual(p.wait(timeout=120), 125)
        self.assertEqual(p.report.outcome, "stopped_on_request")
        self.assertFalse(any(alive(x) for x in pids))
        self.assertTrue(set(pids) <= {x.pid for x in p.leftovers})

    def test_kill_skips_the_grace(self) -> None:
        # The tree ignores TERM and the grace is long: only an immediate SIGKILL ends it soon.
        p, pids = start("trap '' TERM; " + TREE, progeny_options=["--kill-after", "10m"])
        with p:
            began = time.monotonic()
            p.kill()
            p.wait(timeout=120)
            self.assertLess(time.monotonic() - began, 60)
        self.assertFalse(any(alive(x) for x in pids))

    def test_wait_timeout_leaves_the_tree_running(self) -> None:
        p, pids = start()
        with p:
            with self.assertRaises(subprocess.TimeoutExpired):
                p.wait(timeout=0.2)
            self.assertTrue(all(alive(x) for x in pids))
        self.assertFalse(any(alive(x) for x in pids))

    def test_context_exit_stops_the_tree(self) -> None:
        p, pids = start()
        with p:
            pass
        self.assertIsNotNone(p.returncode)
        self.assertFalse(any(alive(x) for x in pids))

    def test_send_signal_reaches_command(self) -> None:
        p = progeny.Popen(["sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 0.05; done"],
                          stdout=subprocess.PIPE)
        with p:
            assert p.stdout is not None
            self.assertEqual(p.stdout.readline(), b"ready\n")
            p.send_signal(signal.SIGUSR1)
            self.assertEqual(p.wait(timeout=120), 7)

    def test_exit_after_command_keeps_its_status(self) -> None:
        with progeny.Popen(["sh", "-c", "exit 3"]) as p:
            self.assertEqual(p.wait(timeout=120), 3)
            self.assertEqual(p.report.outcome, "command_exited")
            p.terminate()  # after the end: nothing to stop, no error


if __name__ == "__main__":
    unittest.main()
