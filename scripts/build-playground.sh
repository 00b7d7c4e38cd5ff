#!/usr/bin/env bash
# Builds the offline GraphQL playground (GraphiQL bundled with esbuild) from
# playground/web into playground/dist, which is committed so that building
# the Go program needs no Node.js.
#
#   scripts/build-playground.sh          install the locked npm packages and
#                                        rebuild playground/dist
#   scripts/build-playground.sh --check  rebuild into a temporary directory and
#                                        fail if playground/dist differs from it
#
# Needs Node.js 18 or newer with npm; the build is deterministic, so --check
# passes exactly when the committed bundle matches package-lock.json and
# playground/web.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/playground/web"
dist="$root/playground/dist"

check=0
case "${1:-}" in
"") ;;
--check) check=1 ;;
-h | --help)
	sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "build-playground.sh: unknown argument ${1}; use --check or nothing" >&2
	exit 2
	;;
esac

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-playground.sh: $tool is not installed (Node.js 18 or newer is needed)" >&2
		exit 1
	fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
	echo "build-playground.sh: Node.js $(node -v) is too old; 18 or newer is needed" >&2
	exit 1
fi

cd "$web"
# --ignore-scripts: no package needs its install script (esbuild finds its
# platform binary through its optional dependency).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null

if [ "$check" = 0 ]; then
	node build.mjs "$dist"
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node build.mjs "$tmp/dist" >/dev/null
if ! diff -r -q "$dist" "$tmp/dist" >"$tmp/diff" 2>&1; then
	sed -e "s|$tmp/dist|<fresh build>|g" -e "s|$root/||g" "$tmp/diff" | head -n 40 >&2
	echo "build-playground.sh: playground/dist is out of date with playground/web;" \
		"run scripts/build-playground.sh and commit playground/dist" >&2
	exit 1
fi
echo "playground/dist is up to date ($(find "$dist" -type f | wc -l) files)"
