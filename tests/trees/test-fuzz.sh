#!/bin/sh
# test-fuzz.sh - run the decoder's libFuzzer target for a short while
# (MF_FUZZ_SECONDS, default 20) from the committed seed corpus. TAP.
# The fuzzer is only built when configure found clang with libFuzzer; then
# this is a SKIP that says so, not a pass.
secs=${MF_FUZZ_SECONDS:-20}
fuzzer=./fuzz-decoder
echo "1..1"
if [ ! -x "$fuzzer" ]; then
	echo "ok 1 - fuzz the decoder # SKIP no libFuzzer (needs clang and libclang-rt-dev)"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mf-fuzz-XXXXXX") || exit 1
# The first corpus dir receives new inputs: a temp copy, never the source.
cp "$srcdir/fuzz-corpus/"* "$work/" 2>/dev/null
"$fuzzer" -max_total_time="$secs" -max_len=140000 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/" -print_final_stats=1 "$work" >"$work.log" 2>&1
status=$?
sed 's/^/# /' "$work.log" | grep -E '^# (INFO: seed corpus|#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|.*ERROR)' | head -20
if [ $status -eq 0 ]; then
	echo "ok 1 - fuzz the decoder for ${secs}s: no crash, hang, leak or broken property"
	rm -rf "$work" "$work.log"
else
	echo "not ok 1 - fuzz the decoder: exit $status; crash input and log kept in $work"
	tail -n 40 "$work.log" | sed 's/^/# /'
fi
exit 0
