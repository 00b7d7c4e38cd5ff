#!/usr/bin/env bash
# Audits the GraphQL endpoint with graphql-http's GraphQL-over-HTTP server
# audit (the npm package graphql-http, locked in
# scripts/graphql-http-audit/): builds the binary, serves a fresh demo
# database on a free loopback port, and runs every audit, for both media
# types, with the demo token (scripts/graphql-http-audit/audit.mjs says
# what passes). Fails on any warning or error, and on any notice but
# those of GETs sent without a CSRF preflight header.
#
# Needs Go, and Node.js 18 or newer with npm (scripts/ci-playground.sh
# installs them on CI).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
audit="$root/scripts/graphql-http-audit"

for tool in go node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "graphql-http-audit.sh: $tool is not installed" >&2
		exit 1
	fi
done

tmp="$(mktemp -d)"
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$audit" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
(cd "$root" && go build -o "$tmp/opfacade" .)

# The server as deployed, on demo data: no FACADE_ variable of the caller
# changes it.
unset_env=()
while IFS= read -r v; do unset_env+=(-u "$v"); done < <(compgen -e | grep '^FACADE_' || true)
env "${unset_env[@]}" "$tmp/opfacade" -db "$tmp/demo.db" -demo -addr 127.0.0.1:0 >"$tmp/banner" 2>"$tmp/log" &
pid=$!

# The banner names the port and the demo token once the server listens.
url=""
for _ in $(seq 1 300); do
	url="$(sed -n 's|^  GraphQL: *POST \(http://[^ ]*/query\)$|\1|p' "$tmp/banner")"
	[ -n "$url" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
token="$(sed -n 's/^Demo token ([^)]*): \([^ ]*\) .*/\1/p' "$tmp/banner")"
if [ -z "$url" ] || [ -z "$token" ]; then
	echo "graphql-http-audit.sh: the server did not start; its output:" >&2
	cat "$tmp/banner" "$tmp/log" >&2
	exit 1
fi

if ! node "$audit/audit.mjs" "$url" "$token"; then
	echo "graphql-http-audit.sh: the server's log:" >&2
	tail -n 40 "$tmp/log" >&2
	exit 1
fi
