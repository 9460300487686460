"""progeny.run: real trees whose leftovers would defeat subprocess.run."""
from __future__ import annotations

import subprocess
import time
import unittest

import progeny

from .helpers import WAIT_EXEC, alive, pids_of


class RunTest(unittest.TestCase):
    def test_grandchild_holding_the_pipe_does_not_hold_the_call(self) -> None:
        # subprocess.run would wait for the sleep's end of stdout until the timeout
        # (cpython#81605); under progeny the sleep is stopped when sh exits.
        start = time.monotonic()
        r = progeny.run(["sh", "-c", WAIT_EXEC + "sleep 100 & wait_exec $!; echo $!; echo hi"], capture_output=True,
                        timeout=2)
        elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"hi\n", r.stdout)
        self.assertEqual(r.outcome, "command_exited")
        (sleep_pid,) = pids_of(r.stdout)
        self.assertFalse(alive(sleep_pid))
        self.assertEqual([p.pid for p in r.leftovers], [sleep_pid])
        self.assertEqual(r.leftovers[0].argv, ["sleep", "100"])
        self.assertTrue(r.leftovers[0].holds_output)
        self.assertLess(elapsed, 2.0)

    def test_setsid_escapee_is_stopped_and_named(self) -> None:
        r = progeny.run(["sh", "-c", WAIT_EXEC + "setsid sleep 100 & wait_exec $!; echo $!"], capture_output=True)
        (pid,) = pids_of(r.stdout)
        self.assertFalse(alive(pid))
        (left,) = r.leftovers
        self.assertEqual(left.pid, pid)
        self.assertEqual(left.escape, "setsid")
        self.assertEqual(left.sid, pid)

    def test_double_fork_orphan_is_stopped(self) -> None:
        r = progeny.run(["sh", "-c", WAIT_EXEC + "(sleep 100 & wait_exec $!; echo $!)"], capture_output=True)
        (pid,) = pids_of(r.stdout)
        self.assertFalse(alive(pid))
        (left,) = r.leftovers
        self.assertEqual(left.pid, pid)
        self.assertEqual(left.origin, "adopted")

    def test_timeout_kills_the_whole_tree(self) -> None:
        with self.assertRaises(subprocess.TimeoutExpired) as cm:
            progeny.run(["sh", "-c", WAIT_EXEC + "setsid sleep 100 & wait_exec $!; echo $!; sleep 100"],
                        capture_output=True, timeout=1)
        (pid,) = pids_of(cm.exception.stdout)
        self.assertFalse(alive(pid))
        report = cm.exception.report  # type: ignore[attr-defined]
        self.assertEqual(report.outcome, "stopped_on_request")
        self.assertIn(pid, [p.pid for p in report.leftovers])

    def test_clean_run_has_no_leftovers_and_command_status(self) -> None:
        r = progeny.run(["sh", "-c", "exit 7"])
        self.assertEqual(r.returncode, 7)
        self.assertEqual(r.leftovers, [])
        with self.assertRaises(subprocess.CalledProcessError):
            progeny.run(["false"], check=True)

    def test_input_and_text(self) -> None:
        r = progeny.run(["cat"], input="hello", capture_output=True, text=True)
        self.assertEqual(r.stdout, "hello")

    def test_command_not_found_is_no_progeny_error(self) -> None:
        r = progeny.run(["/nonexistent/program"], capture_output=True)
        self.assertEqual(r.returncode, 127)
        self.assertEqual(r.outcome, "command_not_found")

    def test_progeny_error_without_a_report_is_still_an_error(self) -> None:
        # A second --report that cannot be opened: progeny refuses before writing any.
        with self.assertRaises(progeny.ProgenyError) as cm:
            progeny.run(["true"], progeny_options=["--report", "/nonexistent/dir/r.json"],
                        capture_output=True)
        self.assertIn("without writing its report", cm.exception.message)
        self.assertIsNone(cm.exception.report)

    def test_progeny_error_carries_the_launchers_message(self) -> None:
        with self.assertRaises(progeny.ProgenyError) as cm:
            progeny.run(["true"], progeny_options=["--contain", "bogus"], capture_output=True)
        self.assertIn("--contain", cm.exception.message)
        self.assertIn("bogus", cm.exception.message)
        self.assertEqual(cm.exception.report.status, 125)


if __name__ == "__main__":
    unittest.main()
