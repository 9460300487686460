"""``progeny.Popen`` and ``progeny.run``: subprocess's interface, acting on the whole tree.

COMMAND runs as ``progeny run --report FILE --control-fd N -- COMMAND``. The control channel
(a pipe whose read end progeny inherited; COMMAND never does) carries ``stop`` and ``kill``,
so terminate() and kill() reach every descendant, those that called setsid() included, where
subprocess's signal reaches the direct child only. The verdict comes from the report file,
never from stderr.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any, List, Optional, Sequence, Union

from ._binary import find_binary
from .errors import ProgenyError
from .report import Leftover, Report, read_report

Args = Union[str, Sequence[str]]


def progeny_argv(args: Args, report: str, control_fd: int, options: Sequence[str] = (),
                 report_on_stderr: bool = False) -> List[str]:
    """The ``progeny run`` command line that runs args (a string is one program, no shell).

    Quiet (``-q``) unless report_on_stderr: the caller's stderr is COMMAND's, and what
    progeny stopped is in the report's leftovers anyway.
    """
    command = [args] if isinstance(args, str) else [os.fspath(a) for a in args]
    quiet = [] if report_on_stderr else ["-q"]
    return [find_binary(), "run", *quiet, "--report", report, "--control-fd", str(control_fd),
            *options, "--", *command]


class Popen(subprocess.Popen):
    """subprocess.Popen running args under ``progeny run``.

    Everything subprocess.Popen takes is accepted (``shell=True`` is not: pass
    ``["sh", "-c", ...]``), plus ``progeny_options``, extra ``progeny run`` options
    (e.g. ``["--log", "run.jsonl"]``), and ``report_on_stderr`` (progeny's report of what it
    stopped, on stderr; off by default, as stderr is COMMAND's). ``pid`` is progeny's; ``returncode`` is progeny's exit
    status (see the README's exit status table: COMMAND's own, 124, 125...), negative when
    progeny died of a signal (COMMAND died of it: progeny dies of the same). Once the run
    ended, ``report`` holds the verdict and ``leftovers`` what progeny had to stop.

    Methods that differ from subprocess:

    - ``terminate()``: asks progeny for its stop sequence on the whole tree (``--signal``,
      default TERM, then SIGKILL after ``--kill-after``, default 5 s), not SIGTERM to one
      process. Returns at once; wait() for the end.
    - ``kill()``: asks for SIGKILL of the whole tree at once (during a stop: cuts its grace).
    - ``send_signal(sig)``: the signal goes to progeny, which forwards it to COMMAND alone
      (so SIGINT, SIGHUP... keep their meaning for COMMAND).
    - ``wait(timeout=)``: as subprocess (TimeoutExpired leaves the tree running); once
      progeny exited, reads the report and raises :class:`ProgenyError` when the run failed
      because of progeny itself (outcome ``progeny_error``).
    - context-manager exit: if the run still goes on, terminate(), then wait (the stop is
      bounded by ``--kill-after`` plus SIGKILL rounds), then closes the pipes. Nothing the
      block started through this object outlives the ``with``.
    """

    def __init__(self, args: Args, *posargs: Any, progeny_options: Sequence[str] = (),
                 report_on_stderr: bool = False, **kwargs: Any) -> None:
        if kwargs.get("shell"):
            raise ValueError("progeny.Popen: shell=True is not supported; pass ['sh', '-c', ...]")
        self._report_dir = tempfile.mkdtemp(prefix="progeny-")
        self._report_path = os.path.join(self._report_dir, "report.json")
        self.report: Optional[Report] = None
        read_end, self._control = os.pipe()
        try:
            pass_fds = tuple(kwargs.pop("pass_fds", ())) + (read_end,)
            argv = progeny_argv(args, self._report_path, read_end, progeny_options,
                                report_on_stderr)
            super().__init__(argv, *posargs, pass_fds=pass_fds, **kwargs)
        except BaseException:
            os.close(self._control)
            shutil.rmtree(self._report_dir, ignore_errors=True)
            raise
        finally:
            os.close(read_end)

    @property
    def leftovers(self) -> List[Leftover]:
        """What progeny found still running and stopped (empty before the end)."""
        return self.report.leftovers if self.report else []

    def _ask(self, line: bytes) -> None:
        if self.returncode is not None or self._control < 0:
            return
        try:
            os.write(self._control, line)
        except BrokenPipeError:  # progeny already exited: nothing left to stop
            pass

    def terminate(self) -> None:
        """Stop the whole tree: progeny's stop sequence (signal, grace, SIGKILL)."""
        self._ask(b"stop\n")

    def kill(self) -> None:
        """SIGKILL the whole tree at once."""
        self._ask(b"kill\n")

    def wait(self, timeout: Optional[float] = None) -> int:
        """Wait for progeny to exit; then read the report (ProgenyError on progeny's own error)."""
        code = super().wait(timeout)
        self._collect()
        return code

    def _collect(self) -> None:
        if self._control >= 0:
            os.close(self._control)
            self._control = -1
        if self.report is None and os.path.isdir(self._report_dir):
            try:
                self.report = read_report(self._report_path)
            finally:
                shutil.rmtree(self._report_dir, ignore_errors=True)
            if self.report and self.report.outcome == "progeny_error":
                raise ProgenyError(self.report.error or self.report.meaning, self.report)
            if self.report is None and self.returncode == 125:
                # Refused before it could write one (the report file itself): its stderr
                # has the line, which this module does not parse.
                raise ProgenyError("progeny exited 125 without writing its report")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.returncode is None and self.poll() is None:
            self.terminate()
        super().__exit__(exc_type, exc, tb)
        self._collect()

    def __del__(self) -> None:
        # The write end closes by itself (EOF asks progeny for nothing); the report dir is ours.
        if getattr(self, "_control", -1) >= 0:
            os.close(self._control)
            self._control = -1
        if getattr(self, "_report_dir", None):
            shutil.rmtree(self._report_dir, ignore_errors=True)
        super().__del__()


class CompletedRun(subprocess.CompletedProcess):
    """subprocess.CompletedProcess plus the verdict: ``report``, ``leftovers``, ``outcome``."""

    def __init__(self, args: Any, returncode: int, stdout: Any, stderr: Any,
                 report: Optional[Report]) -> None:
        super().__init__(args, returncode, stdout, stderr)
        self.report = report

    @property
    def leftovers(self) -> List[Leftover]:
        """The processes that outlived COMMAND (or the timeout) and that progeny stopped."""
        return self.report.leftovers if self.report else []

    @property
    def outcome(self) -> Optional[str]:
        """The report's ``exit.outcome`` (command_exited, timeout, ...), None without one."""
        return self.report.outcome if self.report else None


def run(args: Args, *, input: Any = None, capture_output: bool = False,
        timeout: Optional[float] = None, check: bool = False,
        progeny_options: Sequence[str] = (), report_on_stderr: bool = False,
        **kwargs: Any) -> CompletedRun:
    """subprocess.run under progeny: returns when COMMAND is done and nothing of it is left.

    Whatever COMMAND left running (a daemon, a ``sleep 100 &`` holding the stdout pipe) is
    stopped by progeny as soon as COMMAND exits, so the pipes close and the call returns
    promptly; the result's ``leftovers`` name what was stopped. On ``timeout`` the whole tree
    is killed (not only the direct child, which is what leaves subprocess.run hanging on a
    grandchild holding the pipe) and subprocess.TimeoutExpired is raised, with the output so
    far and ``report``. ``check=True`` raises subprocess.CalledProcessError on a non-zero
    status. Raises :class:`ProgenyError` when progeny itself failed.
    """
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input arguments may not both be used.")
        kwargs["stdin"] = subprocess.PIPE
    if capture_output:
        if kwargs.get("stdout") is not None or kwargs.get("stderr") is not None:
            raise ValueError("stdout and stderr arguments may not be used with capture_output.")
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    with Popen(args, progeny_options=progeny_options, report_on_stderr=report_on_stderr,
               **kwargs) as proc:
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            exc.stdout, exc.stderr = proc.communicate()
            proc.wait()
            exc.report = proc.report  # type: ignore[attr-defined]
            raise
        except BaseException:
            proc.kill()
            raise
        proc.wait()
    result = CompletedRun(args, proc.returncode, stdout, stderr, proc.report)
    if check and result.returncode:
        raise subprocess.CalledProcessError(result.returncode, args, stdout, stderr)
    return result
