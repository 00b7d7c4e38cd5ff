#!/usr/bin/env bash
# Runs each fuzz target briefly, beyond its committed seed corpus (which
# plain `go test` already runs): legacy parameter parsing, signing and
# string encoding, the DateTime scalar, the platform's DATETIME text read
# and written, the GraphQL endpoint over the fixture database, and the
# compiled plans against gqlgen's executor.
#
#   scripts/fuzz.sh            10s per target
#   FUZZTIME=2m scripts/fuzz.sh
#
# A step fails when its target did not fuzz: when the last progress line
# go test prints ("fuzz: elapsed: …, execs: N (…/sec), …") counts fewer
# executions than the target's floor, a rate per second of -fuzztime well
# below what the target does on a small CI machine. Measured on 2 cores
# (go 1.26, no -race, 10s runs): FuzzReadParams, FuzzSign and FuzzDateTime
# about 230,000 to 320,000 executions; FuzzGraphQL about 21,000 to 25,000;
# FuzzCompiled (two servers per execution) about 8,000 to 12,000.
#
# New inputs that widen coverage are minimized for at most
# $FUZZMINIMIZE (default 500 executions) rather than go test's default of
# 60 seconds: the executions a worker spends minimizing are reported only
# when it is done, and are lost when -fuzztime ends first, so a short run
# could report almost nothing (FuzzGraphQL once reported 32 executions in
# 30s while its workers minimized).
#
# A failure leaves the input that caused it in the package's
# testdata/fuzz/<target>/ folder; commit it with the fix, as a regression
# seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
minimize="${FUZZMINIMIZE:-500x}"

# seconds turns a Go duration of whole s, m or h units (10s, 2m, 1h30m)
# into seconds.
seconds() {
	local d=$1 total=0 n unit
	while [[ $d =~ ^([0-9]+)(h|m|s)(.*)$ ]]; do
		n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]} d=${BASH_REMATCH[3]}
		case $unit in
		h) total=$((total + n * 3600)) ;;
		m) total=$((total + n * 60)) ;;
		s) total=$((total + n)) ;;
		esac
	done
	if [[ -n $d || $total -eq 0 ]]; then
		echo "fuzz.sh: FUZZTIME=$1: want a duration such as 10s, 2m or 1h30m" >&2
		return 1
	fi
	echo "$total"
}
secs=$(seconds "$fuzztime")

# package, target, floor in executions per second of -fuzztime
targets=(
	"./legacy FuzzReadParams 2000"
	"./legacy FuzzSign 2000"
	"./legacy FuzzAppendString 2000"
	"./scalar FuzzDateTime 2000"
	"./datetime FuzzParse 2000"
	"./datetime FuzzAppend 2000"
	"./api FuzzGraphQL 200"
	"./plan FuzzCompiled 50"
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# fuzz runs one target once into $log, and sets status and execs.
fuzz() {
	set +e
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	set -e
	execs=$(grep -oE '^fuzz: elapsed: [^,]+, execs: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || true)
}

for t in "${targets[@]}"; do
	read -r pkg name rate <<<"$t"
	floor=$((rate * secs))
	echo "== fuzz $name ($pkg, $fuzztime, at least $floor executions)"
	fuzz
	# A busy machine can starve a short run (too few executions, or go
	# test's own "context deadline exceeded" as -fuzztime ends): it gets
	# one more try. A failure that wrote a failing input gets none.
	if { ((status != 0)) || [[ -z $execs ]] || ((execs < floor)); } && ! grep -q 'Failing input written' "$log"; then
		echo "fuzz.sh: $name: once more, the first run having been starved (status $status, ${execs:-no} executions)"
		fuzz
	fi
	if ((status != 0)); then
		echo "fuzz.sh: $name failed" >&2
		exit 1
	fi
	if [[ -z $execs ]]; then
		echo "fuzz.sh: $name printed no execution count: it did not fuzz" >&2
		exit 1
	fi
	if ((execs < floor)); then
		echo "fuzz.sh: $name ran $execs executions in $fuzztime, under its floor of $floor ($rate a second): it did not fuzz" >&2
		exit 1
	fi
	echo "fuzz.sh: $name ran $execs executions in $fuzztime (floor $floor)"
done
