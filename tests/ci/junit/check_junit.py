#!/usr/bin/python3
"""check_junit.py — reads a JUnit file bg-gate wrote with junitparser (a JUnit consumer
other CI tools build on) and checks it against what the run really did.

Usage: check_junit.py MODEL JUNIT_XML REPORT_JSON SUITE=CASES...
  MODEL        "good" (every case must pass) or "bad" (the bad mock model fails cases)
  REPORT_JSON  the --json-report of the same run: which cases failed and why
  SUITE=CASES  e.g. evals/golden.jsonl=33, the case count `bg-gate validate` gives

Prints one "ok - …" / "not ok - …" line per check; exits 1 when one failed.
Run it with Debian's python3 (/usr/bin/python3) and python3-junitparser.
"""
import json
import os
import sys

from junitparser import Attr, Error, Failure, IntAttr, JUnitXml, TestCase

# bg-gate's extra attributes (GitLab and Jenkins read them): where a case is defined.
TestCase.file = Attr("file")
TestCase.line = IntAttr("line")

results = []


def check(cond, what):
    results.append(bool(cond))
    print(("ok - " if cond else "not ok - ") + what)


def main(argv):
    model, junit_path, report_path = argv[1:4]
    counts = dict(a.rsplit("=", 1) for a in argv[4:])
    counts = {path: int(n) for path, n in counts.items()}
    report = json.load(open(report_path, encoding="utf-8"))
    xml = JUnitXml.fromfile(junit_path)
    tag = f"{model} model"

    suites = {s.name: s for s in xml}
    want_names = sorted([os.path.basename(p)[: -len(".jsonl")] for p in counts] + ["thresholds"])
    check(sorted(suites) == want_names,
          f"{tag}: one <testsuite> per suite file plus thresholds: {sorted(suites)}")

    failed_cases = 0
    for path, n in counts.items():
        name = os.path.basename(path)[: -len(".jsonl")]
        s = suites.get(name)
        if s is None:
            continue
        cases = list(s)
        rep = next((r for r in report["suites"] if r["name"] == name), None)
        check(rep is not None, f"{tag}: suite {name} is in the JSON report too")
        rep_cases = {c["id"]: c for c in (rep or {"cases": []})["cases"]}
        check(s.tests == n and len(cases) == n,
              f"{tag}: {name}: tests={s.tests}, {len(cases)} <testcase>, {n} cases in {path}")
        props = {p.name: p.value for p in s.properties()}
        check(props.get("file") == path, f"{tag}: {name}: <property name=\"file\"> is {props.get('file')!r}")
        check(all(c.file == path for c in cases),
              f"{tag}: {name}: every <testcase file> is {path!r}")
        check(all(c.name in rep_cases and c.line == rep_cases[c.name]["line"] for c in cases),
              f"{tag}: {name}: every <testcase line> is the case's line in {path}")
        failing = {c.name: c for c in cases if any(isinstance(r, Failure) for r in c.result)}
        erroring = [c.name for c in cases if any(isinstance(r, Error) for r in c.result)]
        want_failing = {i for i, c in rep_cases.items() if not c["pass"] and not c["error"]}
        failed_cases += len(failing)
        check(not erroring and s.errors == 0, f"{tag}: {name}: no <error> (got {erroring})")
        check(s.failures == len(failing) and set(failing) == want_failing,
              f"{tag}: {name}: failures={s.failures}, failing cases = the report's failed cases "
              f"({len(want_failing)})")
        bad_msgs = [i for i, c in failing.items()
                    if c.result[0].message != rep_cases[i]["failure"]
                    or c.result[0].type != "assertion"]
        check(not bad_msgs, f"{tag}: {name}: each <failure message> is the failed assertions "
                            f"(type=assertion) {bad_msgs}")
        if model == "good":
            check(s.failures == 0 and all(c.is_passed for c in cases), f"{tag}: {name}: every case passed")
        if model == "bad" and name == "golden":
            c = failing.get("capital-france")
            check(c is not None and "expected to contain 'Paris'" in c.result[0].message
                  and "Lyon" in c.result[0].message and c.line == 6,
                  f"{tag}: golden: capital-france (line 6) fails: expected 'Paris', got Lyon")
            ok_case = next((c for c in cases if c.name == "capital-australia"), None)
            check(ok_case is not None and ok_case.is_passed,
                  f"{tag}: golden: capital-australia, answered right by the bad model too, passes")
    if model == "bad":
        check(failed_cases > 0, f"{tag}: some cases fail ({failed_cases})")

    th = suites.get("thresholds")
    if th is not None:
        rep_th = {t["name"]: t for t in report["thresholds"]}
        cases = list(th)
        check([c.name for c in cases] == [t["name"] for t in report["thresholds"]],
              f"{tag}: thresholds: one <testcase> per threshold {[c.name for c in cases]}")
        failing = {c.name: c.result[0] for c in cases if c.result}
        want = {n for n, t in rep_th.items() if t["status"] != "pass"}
        check(set(failing) == want and th.failures == len(want),
              f"{tag}: thresholds: failing = {sorted(failing)}, the report says {sorted(want)}")
        check(all(f.message == rep_th[n]["text"] and f.type == "threshold" for n, f in failing.items()),
              f"{tag}: thresholds: each <failure message> is the threshold's outcome text")
        if model == "bad":
            pr = failing.get("pass_rate")
            check(pr is not None and pr.message.startswith("pass_rate ≥ 1: measured 0."),
                  f"{tag}: thresholds: pass_rate fails: {pr.message if pr is not None else None!r}")
    total = sum(s.tests for s in xml)
    check(xml.tests == total and xml.failures == sum(s.failures for s in xml),
          f"{tag}: <testsuites> totals (tests={xml.tests}, failures={xml.failures}) add up")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
