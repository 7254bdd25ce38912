#!/usr/bin/env python3
"""Summarises the schemathesis runs of scripts/fuzz.sh and decides whether they failed.

Reads each run's JSON report (schemathesis `--report json`), prints what was found grouped by
kind (check code), with the operations of those that fail the run, and exits 1 when any run found a failure whose code is in
--fail-on, hit an error (a request that got no answer, an operation that could not be tested),
or left no report. Other findings are printed as notes.

Usage: fuzz-summary.py --fail-on ST101,ST108 NAME=REPORT_DIR...
"""

import argparse
import glob
import json
import os
import sys


def newest_report(directory):
    reports = sorted(glob.glob(os.path.join(directory, "json-*.json")), key=os.path.getmtime)
    return reports[-1] if reports else None


def summarise(name, directory, fail_on):
    """Prints one run's findings; returns how many of them fail the run."""
    path = newest_report(directory)
    if path is None:
        print(f"  {name}: no JSON report in {directory} (schemathesis did not finish)")
        return 1
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as error:
        print(f"  {name}: unreadable report {path} ({error}): schemathesis did not finish")
        return 1
    cases = report.get("test_cases", {})
    operations = report.get("operations", {})
    print(
        f"  {name}: {cases.get('generated', 0)} test cases over {operations.get('tested', 0)} operations"
        f" in {report.get('running_time', 0):.0f} s"
    )
    failing = 0
    for failure in report.get("failures", []):
        code = failure.get("code", "?")
        verdict = "FAIL" if code in fail_on else "note"
        if verdict == "FAIL":
            failing += failure.get("count", 0)
        print(f"    {verdict} {code} {failure.get('title', '')}: {failure.get('count', 0)}")
        if verdict == "FAIL":
            for operation in failure.get("operations", []):
                print(f"           {operation}")
    for error in report.get("errors", []):
        failing += 1
        print(f"    FAIL error: {json.dumps(error)[:300]}")
    if not report.get("failures") and not report.get("errors"):
        print("    nothing found")
    return failing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-on", required=True, help="comma-separated check codes that fail the run")
    parser.add_argument("runs", nargs="+", metavar="NAME=REPORT_DIR")
    args = parser.parse_args()
    fail_on = {code.strip().upper() for code in args.fail_on.split(",") if code.strip()}

    failing = 0
    for run in args.runs:
        name, _, directory = run.partition("=")
        failing += summarise(name, directory, fail_on)
    if failing:
        print(f"fuzz: FAILED: {failing} finding(s) of {', '.join(sorted(fail_on))} or errors")
        return 1
    print(f"fuzz: passed: no {', '.join(sorted(fail_on))} and no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
