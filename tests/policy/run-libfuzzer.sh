#!/bin/sh
# run-libfuzzer.sh - runs the policy request parser's libFuzzer target
# (fuzz-request.c, built by "make check" with the clang that configure
# found) briefly, starting from the seed corpus. TAP output for automake's
# tap-driver.sh.
#
# Environment: srcdir (set by automake), CLANG (configure's, for messages),
# FUZZ_SECONDS (default 20). Inputs that crash the target are kept as
# ./fuzz-crash-* for fuzz-replay and for a new seed. A missing target is a
# failure, not a skip: the build dependencies include clang with libFuzzer.
set -u
seconds=${FUZZ_SECONDS:-20}
bin=./fuzz-request-libfuzzer

echo "1..2"
if [ ! -x "$bin" ]; then
	echo "not ok 1 - no libFuzzer target: configure found no clang that links libFuzzer targets (CLANG=${CLANG:-}); install the build dependencies (tools/install-build-deps) and run configure again"
	echo "not ok 2 - fuzzing # SKIP no fuzzer"
	exit 0
fi
echo "ok 1 - ${CLANG:-clang} -fsanitize=fuzzer,address,undefined built the target"
corpus=$(mktemp -d "${TMPDIR:-/tmp}/mf-fuzz-request.XXXXXX")
trap 'rm -rf "$corpus"' EXIT INT TERM
cp "$srcdir"/fuzz-corpus/* "$corpus"/
# max_len above POLICY_REQUEST_MAX, so the size limits are reachable.
if "$bin" -max_total_time="$seconds" -max_len=70000 -rss_limit_mb=1024 -timeout=10 \
	-artifact_prefix=./fuzz-crash- -print_final_stats=1 "$corpus" >fuzz-run.out 2>&1; then
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' fuzz-run.out)
	echo "ok 2 - ${seconds}s of fuzzing, ${runs:-?} inputs, no crash and no disagreement"
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' fuzz-run.out |
		sed 's/^/# /'
else
	echo "not ok 2 - fuzzing found a problem (input kept as ./fuzz-crash-*)"
	tail -n 40 fuzz-run.out | sed 's/^/# /'
fi
