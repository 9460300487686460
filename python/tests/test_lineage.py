"""progeny.read_log / processes: a real run's log as objects."""
from __future__ import annotations

import os
import tempfile
import unittest

import progeny

from .helpers import WAIT_EXEC, pids_of


class LineageTest(unittest.TestCase):
    def test_a_runs_log_names_the_escapee_and_its_stop(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "run.jsonl")
            r = progeny.run(["sh", "-c", WAIT_EXEC + "setsid sleep 100 & wait_exec $!; echo $!"], capture_output=True,
                            progeny_options=["--log", log])
            (pid,) = pids_of(r.stdout)
            records = progeny.read_log(log)
        self.assertEqual(records[0].event, "start")
        self.assertEqual(records[0].get("argv")[0], "sh")
        procs = progeny.processes(records)
        (command,) = [p for p in procs if p.role == "command"]
        self.assertEqual(command.exit_code, 0)
        (sleep,) = [p for p in procs if p.pid == pid]
        self.assertEqual(sleep.argv, ["sleep", "100"])
        self.assertTrue(sleep.called_setsid)
        self.assertTrue(sleep.escaped)
        self.assertIn("TERM", sleep.signals)
        self.assertEqual(sleep.exit_signal, "TERM")

    def test_a_line_that_is_no_record_is_an_error(self) -> None:
        with self.assertRaises(progeny.LogError):
            progeny.parse_record('{"event": "fork"}', 3)
        with self.assertRaises(progeny.LogError):
            progeny.parse_record('{"v": 2, "event": "fork", "source": "shim", "pid": 1, "time_ns": 0}')


if __name__ == "__main__":
    unittest.main()
