#!/bin/sh
# Runs every test binary under BUILD/tests against a throwaway private
# PostgreSQL cluster started by scout's own cluster code, and prints one
# closing line "N passed, N failed" counted over all test cases.
#   sh scripts/test.sh BUILD [unit|integration] [name-filter]
set -u
BUILD=${1:-build}
KIND=${2:-all}
FILTER=${3:-}
SCOUT="$BUILD/scout"
tmp=$(mktemp -d /tmp/scout-test.XXXXXX)
chmod 755 "$tmp"
logdir="$BUILD/test-logs"
mkdir -p "$logdir"
passed=0
failed=0
failed_names=""

cleanup() {
	if [ -n "${STARTED:-}" ]; then
		SCOUT_HOME="$tmp/home" "$SCOUT" db stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ "$KIND" != unit ]; then
	unset DATABASE_URL
	export SCOUT_PG_FAST=1
	export SCOUT_HOME="$tmp/home"
	if ! "$SCOUT" db start >"$logdir/db-start.log" 2>&1; then
		echo "test: cannot start the test cluster:" >&2
		cat "$logdir/db-start.log" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	STARTED=1
	DATABASE_URL=$("$SCOUT" db url) || exit 1
	export DATABASE_URL
	export SCOUT_TEST_HOME="$tmp"
fi

case "$KIND" in
unit) dirs="$BUILD/tests/unit" ;;
integration) dirs="$BUILD/tests/integration" ;;
*) dirs="$BUILD/tests/unit $BUILD/tests/integration" ;;
esac

for d in $dirs; do
	[ -d "$d" ] || continue
	for t in "$d"/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		case "$name" in *"$FILTER"*) ;; *) continue ;; esac
		log="$logdir/$name.log"
		start=$(date +%s)
		CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log" 2>&1
		rc=$?
		end=$(date +%s)
		ok=$(grep -c '^\[       OK \]' "$log")
		bad=$(grep -c '^\[  FAILED  \] [a-z_0-9]' "$log")
		if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
			bad=1 # crashed or failed outside a test case
		fi
		passed=$((passed + ok))
		failed=$((failed + bad))
		if [ "$bad" -ne 0 ]; then
			failed_names="$failed_names $name"
			echo "FAIL $name ($ok ok, $bad failed, $((end - start))s), log follows:"
			tail -n 60 "$log"
		else
			echo "ok   $name ($ok tests, $((end - start))s)"
		fi
	done
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
