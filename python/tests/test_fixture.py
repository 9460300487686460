"""progeny.no_leaks: passes clean code, fails (and cleans up after) code that leaks."""
from __future__ import annotations

import subprocess
import unittest

import progeny

from .helpers import WAIT_EXEC, alive, pids_of


def leak(script: str) -> int:
    """Runs script directly (not under progeny), returns the pid it echoed."""
    out = subprocess.run(["sh", "-c", WAIT_EXEC + script], stdout=subprocess.PIPE, check=True).stdout
    (pid,) = pids_of(out)
    return pid


class NoLeaksTest(unittest.TestCase):
    def test_setsid_escapee_fails_the_block_and_is_stopped(self) -> None:
        with self.assertRaises(progeny.LeakError) as cm:
            with progeny.no_leaks(settle=0.2):
                pid = leak("setsid sleep 100 >/dev/null & wait_exec $!; echo $!")
        self.assertEqual([p.pid for p in cm.exception.leaked], [pid])
        self.assertEqual(cm.exception.leaked[0].argv, ["sleep", "100"])
        self.assertFalse(alive(pid))

    def test_double_fork_orphan_fails_the_block(self) -> None:
        with self.assertRaises(progeny.LeakError) as cm:
            with progeny.no_leaks(settle=0.2):
                pid = leak("(sleep 100 >/dev/null & wait_exec $!; echo $!)")
        self.assertIn(pid, [p.pid for p in cm.exception.leaked])
        self.assertFalse(alive(pid))

    def test_what_ends_within_the_settle_is_no_leak(self) -> None:
        with progeny.no_leaks(settle=60):
            leak("sleep 0.3 >/dev/null & echo $!")

    def test_trees_run_under_progeny_do_not_leak(self) -> None:
        # A settle for progeny's own helpers (a cgroup watchdog) that end just after it.
        with progeny.no_leaks(settle=10):
            progeny.run(["sh", "-c", "setsid sleep 100 & (sleep 100 &)"], capture_output=True)

    def test_processes_from_before_the_block_do_not_count(self) -> None:
        with progeny.Popen(["sleep", "100"]) as before:
            with progeny.no_leaks(settle=0.2):
                pass
            self.assertIsNone(before.poll())

    def test_fails_a_unittest_test_that_leaks(self) -> None:
        leaked: list = []

        class Leaky(unittest.TestCase):
            def setUp(self) -> None:
                self.enterContext(progeny.no_leaks(settle=0.2))

            def test_leaks(self) -> None:
                leaked.append(leak("setsid sleep 100 >/dev/null & wait_exec $!; echo $!"))

            def test_clean(self) -> None:
                subprocess.run(["true"], check=True)

        result = unittest.TestResult()
        unittest.defaultTestLoader.loadTestsFromTestCase(Leaky).run(result)
        self.assertEqual(result.testsRun, 2)
        self.assertEqual([t.id().rsplit(".", 1)[1] for t, _ in result.failures], ["test_leaks"])
        self.assertIn("outlived the block", result.failures[0][1])
        self.assertEqual(result.errors, [])
        self.assertFalse(alive(leaked[0]))


if __name__ == "__main__":
    unittest.main()
