#!/bin/sh
# Runs every benchmark under BUILD/bench against a throwaway private
# PostgreSQL cluster started by scout's own cluster code. Each benchmark
# prints its figures as ratios against a limit or baseline measured in the
# same run.
#   sh scripts/bench.sh BUILD [name-filter]
set -u
BUILD=${1:-build}
FILTER=${2:-}
SCOUT="$BUILD/scout"
tmp=$(mktemp -d /tmp/scout-bench.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	SCOUT_HOME="$tmp/home" "$SCOUT" db stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
unset DATABASE_URL
export SCOUT_HOME="$tmp/home"
export SCOUT_PG_FAST=1
"$SCOUT" db start >"$tmp/db-start.log" 2>&1 || { cat "$tmp/db-start.log" >&2; exit 1; }
DATABASE_URL=$("$SCOUT" db url) || exit 1
export DATABASE_URL
export SCOUT_TEST_HOME="$tmp"
status=0
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	case "$(basename "$b")" in *"$FILTER"*) ;; *) continue ;; esac
	echo "== $(basename "$b")"
	"$b" || status=1
done
exit $status
