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
logdir="${TEST_LOGDIR:-$BUILD/test-logs}"
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

# Test binaries run TEST_JOBS at a time (default 3): most of their time is
# spent waiting on rate limits, sleeps and the database, not on the CPU.
# Unit tests first, then integration tests; the slowest start first.
list="$tmp/tests"
: >"$list"
for d in $dirs; do
	[ -d "$d" ] || continue
	for t in "$d"/test_*; do
		[ -x "$t" ] || continue
		case "$(basename "$t")" in *"$FILTER"*) echo "$t" >>"$list" ;; esac
	done
done
rm -f "$logdir"/*.result
for slow in test_ingest test_daemon test_sensor_loop test_worker_proc test_partition_status; do
	grep "/$slow\$" "$list"
done >"$tmp/order"
grep -v -x -F -f "$tmp/order" "$list" >>"$tmp/order.rest" || true
cat "$tmp/order.rest" >>"$tmp/order"
xargs -P "${TEST_JOBS:-3}" -n 1 sh scripts/run-one.sh "$logdir" <"$tmp/order"
while read -r t; do
	name="$(basename "$(dirname "$t")")-$(basename "$t")"
	if [ ! -f "$logdir/$name.result" ]; then
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		continue
	fi
	read -r _ ok bad _ <"$logdir/$name.result"
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$bad" -ne 0 ]; then
		failed_names="$failed_names $name"
		echo "--- $name log (last 60 lines):"
		tail -n 60 "$logdir/$name.log"
	fi
done <"$tmp/order"

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
