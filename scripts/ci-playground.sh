#!/usr/bin/env bash
# Prepares a fresh Debian machine for the playground's tests and checks that
# the committed bundle is current:
#   - installs Chromium for the browser test (playground/e2e_test.go), unless
#     a browser is there already ($CHROME_BIN, /usr/bin/chromium, chromium or
#     google-chrome on PATH);
#   - installs Node.js and npm when they are missing;
#   - runs scripts/build-playground.sh --check.
# Safe to run again: it installs nothing that is there already.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

have_browser() {
	if [ -n "${CHROME_BIN:-}" ] && { [ -x "$CHROME_BIN" ] || command -v "$CHROME_BIN" >/dev/null 2>&1; }; then
		return 0
	fi
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1
}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "ci-playground.sh: need root (or sudo) to run: $*" >&2
		exit 1
	fi
}

packages=()
have_browser || packages+=(chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

if [ "${#packages[@]}" -gt 0 ]; then
	echo "ci-playground.sh: installing ${packages[*]}"
	log="$(mktemp)"
	if ! {
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
	} >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -f "$log"
		echo "ci-playground.sh: installing ${packages[*]} failed" >&2
		exit 1
	fi
	rm -f "$log"
fi

"$root/scripts/build-playground.sh" --check
