#!/usr/bin/env bash
# Runs each fuzz target briefly, beyond its committed seed corpus (which
# plain `go test` already runs): legacy parameter parsing and signing, the
# DateTime scalar, and the GraphQL endpoint over the fixture database.
#
#   scripts/fuzz.sh          10s per target, 30s for FuzzGraphQL (whose
#                            workers spend about 10s measuring the seed
#                            corpus before they fuzz)
#   FUZZTIME=2m GRAPHQL_FUZZTIME=5m scripts/fuzz.sh
#
# A failure leaves the input that caused it in the package's
# testdata/fuzz/<target>/ folder; commit it with the fix, as a regression
# seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
targets=(
	"./legacy FuzzReadParams $fuzztime"
	"./legacy FuzzSign $fuzztime"
	"./scalar FuzzDateTime $fuzztime"
	". FuzzGraphQL ${GRAPHQL_FUZZTIME:-30s}"
)
for t in "${targets[@]}"; do
	read -r pkg name time <<<"$t"
	echo "== fuzz $name ($pkg, $time)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "$pkg"
done
