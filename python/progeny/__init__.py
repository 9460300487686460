"""progeny for Python: run programs so that no process they start outlives them.

Drives the ``progeny`` binary (see :func:`find_binary`):

- :func:`run` and :class:`Popen`: subprocess's interface under ``progeny run``, where
  terminate(), kill(), wait() and the context manager act on the whole tree;
- :func:`no_leaks`: a context manager that fails a test whose code leaks processes;
- :func:`read_log` / :func:`processes`: lineage logs as objects;
- :class:`ProgenyError`: progeny's own errors, carrying the launcher's message.
"""
from ._binary import BINARY_ENV, find_binary
from .errors import LeakError, ProgenyError
from .fixture import no_leaks
from .lineage import LogError, Process, Record, iter_log, parse_record, processes, read_log
from .process import CompletedRun, Popen, run
from .report import Leftover, Report, read_report

__all__ = [
    "BINARY_ENV", "CompletedRun", "Leftover", "LeakError", "LogError", "Popen", "Process",
    "ProgenyError", "Record", "Report", "find_binary", "iter_log", "no_leaks", "parse_record",
    "processes", "read_log", "read_report", "run",
]
