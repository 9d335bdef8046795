#!/usr/bin/env bash
# Install the Debian packages the test suite and the benchmarks use, if they are missing.
# Idempotent: does nothing when everything is present.  Only runs apt-get as
# root; otherwise prints what is missing and exits 0.
#
# To add a package, add a line to PACKAGES: "<debian package> <file it provides>".
set -euo pipefail

PACKAGES=(
    "chromium /usr/bin/chromium"
    "wrk /usr/bin/wrk"
    "dovecot-imapd /usr/lib/dovecot/imap"
    "sip-tester /usr/bin/sipp"
)

missing=()
for entry in "${PACKAGES[@]}"; do
    read -r pkg file <<<"$entry"
    if [[ ! -e "$file" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system-deps: all present"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "system-deps: missing Debian packages: ${missing[*]}" >&2
    echo "system-deps: not root; install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 0
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
