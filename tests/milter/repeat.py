#!/usr/bin/env python3
"""repeat.py N TEST... - runs some tests of test-miltertest.py N times
(by function name, e.g. test_reload_storm) and prints, per test,
"N passed, N failed"; exit status 1 when one failed. For flaky-test hunts,
not part of "make check". The build is MF_BUILDDIR's, as for the tests:

  MF_KEEP_TMP=0 MF_BUILDDIR=$PWD/_build \\
      python3 tests/milter/repeat.py 30 test_reload test_reload_storm test_server_killed
"""
import importlib.util
import os
import sys


def main(argv):
    if len(argv) < 3 or not argv[1].isdigit():
        print(__doc__.strip(), file=sys.stderr)
        return 64
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-miltertest.py")
    spec = importlib.util.spec_from_file_location("test_miltertest", path)
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    counts = {name: [0, 0] for name in argv[2:]}
    for run in range(int(argv[1])):
        for name in counts:
            try:
                getattr(tests, name)()
                counts[name][0] += 1
            except Exception as e:
                counts[name][1] += 1
                first = (str(e).splitlines() or [type(e).__name__])[0]
                print(f"# run {run} {name} FAILED: {first}", flush=True)
    for name, (passed, failed) in counts.items():
        print(f"{name}: {passed} passed, {failed} failed", flush=True)
    return 1 if any(failed for _, failed in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
