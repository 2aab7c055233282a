#!/usr/bin/env python3
"""Runs the ONNX backend test data through `nncc run --test-data`.

Every test folder passes, fails or is unsupported (nncc refused it with a
reason). The expectations file lists every test that does not pass, with its
reason; the run fails when a test not on that list does not pass, or when a
listed test passes (so the list stays true). Prints the counts per suite.

  run_conformance.py --nncc build/tools/nncc [--suite node ...] [--jobs 2]
                     [--expectations test/conformance/expected_failures.txt]
                     [--update] [--results results.json] [--doc docs/conformance.md]
                     [-k PATTERN]

--update rewrites the expectations file from this run; --doc writes the
per-operator table of docs/conformance.md (needs Debian's python3-onnx).
"""
import argparse
import concurrent.futures as futures
import json
import os
import re
import subprocess
import sys
import time

DATA = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]

# Messages of nncc that mean "refused with a reason" rather than "wrong".
UNSUPPORTED = re.compile(
    r"does not support|not supported|nncc compiles static shapes|unsupported|"
    r"only .* supported|draws random|is not a tensor|element type string")


def run_one(nncc, suite, name, timeout):
    folder = os.path.join(DATA, suite, name)
    data = sorted(d for d in os.listdir(folder) if d.startswith("test_data_set"))
    if not data:
        return suite, name, "unsupported", "no test data set"
    for d in data:
        cmd = [nncc, "run", os.path.join(folder, "model.onnx"), "--test-data",
               os.path.join(folder, d), "--quiet"]
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, text=True, errors="replace")
        except subprocess.TimeoutExpired:
            return suite, name, "fail", "timed out after %ds" % timeout
        if p.returncode == 0:
            continue
        err = (p.stderr.strip() or p.stdout.strip()).splitlines()
        msg = " ".join(l.strip() for l in err[:3])[:300]
        if p.returncode < 0:
            return suite, name, "fail", "crashed with signal %d: %s" % (-p.returncode, msg)
        kind = "unsupported" if UNSUPPORTED.search(msg) and "does not match" not in msg else "fail"
        return suite, name, kind, msg or "exit code %d" % p.returncode
    return suite, name, "pass", ""


def test_ops(suite, name):
    """The operator a test is about: the single operator of its graph (besides
    Constant), that of the test it expands (`*_expanded`), else the last."""
    import onnx
    base = name[: -len("_expanded")] if name.endswith("_expanded") else name
    folder = os.path.join(DATA, suite, base if os.path.isdir(os.path.join(DATA, suite, base)) else name)
    m = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    ops = [n.op_type for n in m.graph.node if n.op_type != "Constant"] or ["Constant"]
    if suite != "node":
        return "(model) " + ", ".join(sorted(set(ops)))
    return ops[0] if len(set(ops)) == 1 else ops[-1]


def short_reason(reason):
    reason = re.sub(r"^\[\w+\] ", "", reason).replace("nncc: error: ", "")
    reason = reason.replace(" Run `nncc ops` to list the supported operators.", "")
    return re.sub(r"'/usr/share/libonnx-testdata/data/[^']*'", "its test data", reason)


def write_doc(path, results, expected):
    import datetime
    per_op = {}
    suite_counts = {}
    for suite, name, status, reason in results:
        op = test_ops(suite, name) if suite == "node" else suite
        c = per_op.setdefault(op, [0, 0, []])
        c[1] += 1
        if status == "pass":
            c[0] += 1
        else:
            why = short_reason(expected.get(suite + "/" + name, reason)).replace("|", "/")
            c[2].append("%s: %s" % (name, why[:160]))
        s = suite_counts.setdefault(suite, [0, 0])
        s[1] += 1
        s[0] += status == "pass"
    with open(path, "w") as f:
        f.write("# ONNX backend conformance\n\n")
        f.write("nncc on the ONNX backend test data of Debian's `libonnx-testdata` "
                "(`/usr/share/libonnx-testdata/data`), each test run by `nncc run --test-data` "
                "(rtol 1e-3, atol 1e-7). Generated on %s by\n\n" % datetime.date.today().isoformat())
        f.write("```sh\ntest/conformance/run_conformance.py --nncc build/tools/nncc --doc docs/conformance.md\n```\n\n")
        f.write("| suite | passed | total |\n|---|---|---|\n")
        for s, (p, t) in sorted(suite_counts.items()):
            f.write("| %s | %d | %d |\n" % (s, p, t))
        f.write("\nTests that do not pass are listed with their reason in "
                "`test/conformance/expected_failures.txt`; CI fails when another test fails.\n\n")
        f.write("## Per operator (node tests; pytorch and simple suites as one row each)\n\n")
        f.write("| operator | passed / total | not passing |\n|---|---|---|\n")
        for op in sorted(per_op, key=str.lower):
            p, t, bad = per_op[op]
            f.write("| %s | %d / %d | %s |\n" % (op, p, t, "<br>".join(bad[:4]) + (" ..." if len(bad) > 4 else "")))


def load_expectations(path):
    expected = {}
    if path and os.path.exists(path):
        for line in open(path):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            key, _, reason = line.partition("  ")
            expected[key.strip()] = reason.strip()
    return expected


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nncc", required=True)
    ap.add_argument("--suite", action="append", choices=SUITES)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--expectations")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--results")
    ap.add_argument("--doc")
    ap.add_argument("-k", dest="pattern")
    args = ap.parse_args()

    suites = args.suite or SUITES
    tasks = []
    for s in suites:
        for name in sorted(os.listdir(os.path.join(DATA, s))):
            if args.pattern and not re.search(args.pattern, name):
                continue
            tasks.append((s, name))
    expected = load_expectations(args.expectations)
    start = time.time()
    results = []
    with futures.ThreadPoolExecutor(args.jobs) as pool:
        for r in pool.map(lambda t: run_one(args.nncc, t[0], t[1], args.timeout), tasks):
            results.append(r)

    counts = {}
    regressions, fixed = [], []
    for suite, name, status, reason in results:
        c = counts.setdefault(suite, {"pass": 0, "fail": 0, "unsupported": 0})
        c[status] += 1
        key = suite + "/" + name
        if status != "pass" and key not in expected:
            regressions.append((key, status, reason))
        if status == "pass" and key in expected:
            fixed.append(key)

    print("conformance (%.0f s):" % (time.time() - start))
    for s in suites:
        c = counts.get(s, {"pass": 0, "fail": 0, "unsupported": 0})
        total = sum(c.values())
        print("  %-18s %4d passed, %4d failed, %4d unsupported, of %4d" %
              (s, c["pass"], c["fail"], c["unsupported"], total))

    if args.results:
        with open(args.results, "w") as f:
            json.dump([dict(suite=s, test=n, status=st, reason=r) for s, n, st, r in results], f, indent=1)

    if args.doc:
        write_doc(args.doc, results, expected)
        print("wrote", args.doc)

    if args.update and args.expectations:
        with open(args.expectations, "w") as f:
            f.write("# Tests of the ONNX backend data that nncc does not pass, with the reason.\n"
                    "# Regenerate: test/conformance/run_conformance.py --nncc build/tools/nncc \\\n"
                    "#   --expectations test/conformance/expected_failures.txt --update\n")
            for suite, name, status, reason in sorted(results):
                if status != "pass":
                    key = suite + "/" + name
                    # A reason written by hand (not starting with the status) is kept.
                    old = expected.get(key, "")
                    text = old if old and not old.startswith("[") else "[%s] %s" % (status, reason)
                    f.write("%s  %s\n" % (key, text))
        print("wrote", args.expectations)
        return 0

    rc = 0
    if regressions:
        print("\n%d test(s) do not pass and are not in the expectations file:" % len(regressions))
        for key, status, reason in regressions:
            print("  %s [%s] %s" % (key, status, reason))
        rc = 1
    if fixed and not args.pattern:
        print("\n%d listed test(s) now pass; remove them from the expectations file (or run with --update):"
              % len(fixed))
        for key in fixed:
            print("  " + key)
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
