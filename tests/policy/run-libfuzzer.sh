#!/bin/sh
# run-libfuzzer.sh - builds the policy request parser's libFuzzer target
# (fuzz-request.c) with clang and runs it briefly, starting from the seed
# corpus. TAP output for automake's tap-driver.sh.
#
# Environment: srcdir, top_srcdir, top_builddir (set by the Makefile),
# FUZZ_CC (default clang), FUZZ_SECONDS (default 20). Inputs that crash the
# target are kept as ./fuzz-crash-* for fuzz-replay and for a new seed.
set -u
cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-20}
bin=./fuzz-request-libfuzzer

echo "1..2"
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "not ok 1 - $cc not found: install the build dependencies (tools/install-build-deps)"
	echo "not ok 2 - fuzzing # SKIP no fuzzer"
	exit 0
fi
if "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$top_builddir" -I"$top_srcdir/postfix-policy" \
	"$srcdir/fuzz-request.c" "$top_srcdir/postfix-policy/policy-request.c" \
	-o "$bin" >fuzz-build.out 2>&1; then
	echo "ok 1 - $cc -fsanitize=fuzzer,address,undefined builds the target"
else
	echo "not ok 1 - $cc -fsanitize=fuzzer builds the target"
	sed 's/^/# /' fuzz-build.out
	echo "not ok 2 - fuzzing # SKIP no fuzzer"
	exit 0
fi
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
