#!/bin/sh
# Runs one test binary for scripts/test.sh and writes its result line
# ("name ok failed seconds") next to its log.
#   sh scripts/run-one.sh LOGDIR TEST_BINARY
set -u
logdir=$1
t=$2
name="$(basename "$(dirname "$t")")-$(basename "$t")"
log="$logdir/$name.log"
start=$(date +%s)
CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log" 2>&1
rc=$?
end=$(date +%s)
ok=$(grep -c '^\[       OK \]' "$log")
# cmocka names a failed test twice (as it fails and in the closing list)
bad=$(grep '^\[  FAILED  \] [a-z_][a-z_0-9]*$' "$log" | sort -u | wc -l)
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	bad=1 # crashed or failed outside a test case
fi
echo "$name $ok $bad $((end - start))" >"$logdir/$name.result"
if [ "$bad" -ne 0 ]; then
	echo "FAIL $name ($ok ok, $bad failed, $((end - start))s)"
else
	echo "ok   $name ($ok tests, $((end - start))s)"
fi
