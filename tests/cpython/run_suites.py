#!/usr/bin/env python3
"""CPython's own test modules, bare and under `progeny run` in each containment x tracker mode:
each test's outcome (pass, skip, fail) must be the same as bare (issue 12: progeny breaks no
correct program). Meant to run inside the test sandbox, which bounds and cleans up whatever a
module leaves (tests/integration/cpython_suites_test.cc starts it there).

Each (mode, module) is one `python3 -m test --junit-xml` run; the runs go in parallel (--jobs),
longest first. A test whose outcome differs from bare's is run again, bare and in that mode at
once: if the two then agree it was the machine's load (printed as flaky), else a difference.
Prints every difference by test id and exits 1 when there is one not listed in
KNOWN_DIFFERENCES (printed too, never silently ignored), 2 when a run produced no results.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

PYTHON = "/usr/bin/python3"

# Every containment x tracker mode; the shim is on in all of them, as by default.
MODES = {
    f"contain={contain},bpf={bpf}": ["--contain", contain, "--bpf", bpf]
    for contain in ("none", "cgroup", "pidns")
    for bpf in ("off", "on")
}

# Differences that are known and named, with why: printed on every run where they show (and
# when they no longer do, so the entry can go).
# (None now: test_pass_fds_redirected, which saw the shim's kept descriptor 960, passes since
# the shim keeps no descriptor between calls.)
KNOWN_DIFFERENCES: dict = {}

# Rough bare durations here, so the longest runs start first and the pool drains evenly.
EXPECTED_SECONDS = {
    "test_multiprocessing_forkserver": 600,
    "test_concurrent_futures": 300,
    "test_subprocess": 100,
    "test_os": 40,
    "test_signal": 40,
    "test_pty": 5,
}


def outcome(case):
    """pass, skip or fail for one <testcase> of regrtest's JUnit file (test/support/testresult.py:
    a failing subtest adds its <failure> or <error> to its test's element)."""
    if case.find("error") is not None or case.find("failure") is not None:
        return "fail"
    if case.get("outcome") == "UNEXPECTED_SUCCESS":
        return "fail"
    if case.find("skipped") is not None:
        return "skip"
    return "pass"


def read_results(xml_path):
    """{test id: outcome}, or None when the run left no readable results (it crashed or timed
    out before regrtest wrote them)."""
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return None
    results = {}
    for case in root.iter("testcase"):
        name = case.get("name")
        # A test listed twice (a re-run) counts as failed if either run failed.
        previous = results.get(name)
        results[name] = "fail" if "fail" in (previous, outcome(case)) else outcome(case)
    return results


def command(mode, module, xml_path, work, tests, args):
    # regrtest's --timeout bounds the whole module (Python 3.11); progeny's, a little later,
    # whatever regrtest leaves.
    # --tempdir: regrtest names its working directory test_python_<pid> in /tmp by default, and
    # in a PID namespace every run's regrtest has the same small pid: two pidns runs at once
    # shared one directory and removed each other's files (test_cwd_with_relative_arg failed).
    regrtest = [PYTHON, "-m", "test", "--timeout", str(args.timeout), "--junit-xml", xml_path,
                "--tempdir", work, *(f"--match={t}" for t in tests), module]
    if mode == "bare":
        return regrtest
    return [args.progeny, "run", "-q", *MODES[mode], *args.progeny_flag,
            "--timeout", f"{args.timeout + 30}s", "--", *regrtest]


def run_one(mode, module, args, tests=(), attempt="first"):
    """Runs one module (only `tests` when given) in one mode; returns (results or None,
    seconds, what to say if None)."""
    tag = f"{module}.{mode.replace('=', '-').replace(',', '.')}.{attempt}"
    xml_path = os.path.join(args.out_dir, tag + ".xml")
    log_path = os.path.join(args.out_dir, tag + ".log")
    start = time.monotonic()
    # The module's working directory is its own, as regrtest's temporary directories are.
    work = os.path.abspath(os.path.join(args.out_dir, tag + ".cwd"))
    os.makedirs(work, exist_ok=True)
    with open(log_path, "wb") as log:
        try:
            status = subprocess.run(command(mode, module, xml_path, work, tests, args), cwd=work,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    timeout=args.timeout + 90).returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
    seconds = time.monotonic() - start
    results = read_results(xml_path)
    why = None
    if results is None:
        with open(log_path, "rb") as log:
            tail = log.read()[-2000:].decode(errors="replace")
        why = f"no results (status {status}); the end of {log_path}:\n{tail}"
    return results, seconds, why


def differences(bare, other):
    """[(test id, bare's outcome, the mode's outcome)] where they differ, "absent" for a test
    one side did not run."""
    return [(t, bare.get(t, "absent"), other.get(t, "absent"))
            for t in sorted(set(bare) | set(other))
            if bare.get(t, "absent") != other.get(t, "absent")]


def counts(results):
    c = {"pass": 0, "skip": 0, "fail": 0}
    for o in results.values():
        c[o] += 1
    return f"{c['pass']} pass, {c['skip']} skip, {c['fail']} fail"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--progeny", required=True, help="the progeny binary")
    p.add_argument("--out-dir", required=True, help="JUnit files and logs go here")
    p.add_argument("--jobs", type=int, default=4, help="runs at once")
    p.add_argument("--mode", action="append", choices=list(MODES),
                   help="only this mode (repeatable; default every mode)")
    p.add_argument("--progeny-flag", action="append", default=[],
                   help="one more flag for every progeny run (e.g. --parent-death=KILL)")
    p.add_argument("--timeout", type=int, default=1800,
                   help="seconds one module may take (regrtest's bound; a loaded 2-core machine"
                        " needs minutes for test_multiprocessing_forkserver)")
    p.add_argument("modules", nargs="+")
    args = p.parse_args()
    modes = args.mode or list(MODES)
    os.makedirs(args.out_dir, exist_ok=True)

    jobs = sorted(((mode, module) for module in args.modules for mode in ["bare", *modes]),
                  key=lambda j: -EXPECTED_SECONDS.get(j[1], 60))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_one, mode, module, args): (mode, module)
                   for mode, module in jobs}
        for f in concurrent.futures.as_completed(futures):
            results[futures[f]] = f.result()

    # A difference is run again, bare and in its mode at once: one that does not come back
    # (both agree the second time) was the load of the machine, and is printed as such.
    again = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {}
        for (mode, module), (other, _, _) in results.items():
            bare = results[("bare", module)][0]
            if mode == "bare" or other is None or bare is None:
                continue
            tests = [d[0] for d in differences(bare, other) if d[0] not in KNOWN_DIFFERENCES]
            if not tests:
                continue
            for side in ("bare", mode):
                futures[pool.submit(run_one, side, module, args, tests, f"again-{mode}")] = (
                    side, mode, module)
        for f in concurrent.futures.as_completed(futures):
            side, mode, module = futures[f]
            again[(side, mode, module)] = f.result()[0]

    status = 0
    for module in args.modules:
        bare, seconds, why = results[("bare", module)]
        if bare is None:
            print(f"{module} bare: {why}")
            status = 2
            continue
        print(f"{module} bare: {counts(bare)} ({seconds:.0f} s)")
        for mode in modes:
            other, seconds, why = results[(mode, module)]
            if other is None:
                print(f"{module} {mode}: {why}")
                status = 2
                continue
            diff = differences(bare, other)
            bare2 = again.get(("bare", mode, module)) or {}
            other2 = again.get((mode, mode, module)) or {}
            flaky = {t for t, _, _ in diff
                     if t in bare2 and bare2.get(t) == other2.get(t)}
            unknown = [d for d in diff if d[0] not in KNOWN_DIFFERENCES and d[0] not in flaky]
            verdict = "same set as bare" if not diff else (
                f"{len(unknown)} difference(s)" if unknown else "no difference but known or flaky")
            print(f"{module} {mode}: {counts(other)} ({seconds:.0f} s): {verdict}")
            for test, was, now in diff:
                known = KNOWN_DIFFERENCES.get(test)
                if known:
                    kind = "known"
                elif test in flaky:
                    kind = f"flaky (re-run: bare {bare2[test]}, here {other2[test]})"
                elif test in bare2 or test in other2:
                    kind = (f"DIFFERENT (re-run: bare {bare2.get(test, 'absent')}, "
                            f"here {other2.get(test, 'absent')})")
                else:
                    kind = "DIFFERENT"
                print(f"  {kind}: {test}: bare {was}, here {now}" + (f" ({known})" if known else ""))
            for test, reason in KNOWN_DIFFERENCES.items():
                if test in bare and test not in {d[0] for d in diff}:
                    print(f"  known difference no longer seen: {test} ({reason})")
            if unknown and status == 0:
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
