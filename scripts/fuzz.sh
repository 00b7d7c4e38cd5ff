#!/usr/bin/env bash
# Runs each fuzz target briefly, beyond its committed seed corpus (which
# plain `go test` already runs): legacy parameter parsing and signing, the
# DateTime scalar, and the GraphQL endpoint over the fixture database.
#
#   scripts/fuzz.sh          10s per target
#   FUZZTIME=2m scripts/fuzz.sh
#
# A failure leaves the input that caused it in the package's
# testdata/fuzz/<target>/ folder; commit it with the fix, as a regression
# seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
targets=(
	"./legacy FuzzReadParams"
	"./legacy FuzzSign"
	"./scalar FuzzDateTime"
	". FuzzGraphQL"
)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== fuzz $name ($pkg, $fuzztime)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done
