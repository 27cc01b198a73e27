#!/usr/bin/env bash
# Make sure the `haproxy` binary is on PATH, installing it from the distribution's packages when it is
# missing (Debian/Ubuntu: apt-get, as root or through sudo). The front door's HAProxy test calls this;
# scripts/test.sh does not need to. Prints the binary's path on success; exits 1 with one line on stderr
# when it cannot be installed.
set -euo pipefail

if command -v haproxy >/dev/null 2>&1; then
    command -v haproxy
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-haproxy: haproxy is not installed and apt-get is not available; install haproxy" >&2
    exit 1
fi

run_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        echo "ensure-haproxy: haproxy is not installed and installing it needs root (or passwordless sudo)" >&2
        exit 1
    fi
}

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# A fresh machine has no package lists yet; update only when the plain install cannot find the package.
if ! run_root apt-get install -y --no-install-recommends haproxy >"$log" 2>&1; then
    if ! { run_root apt-get update && run_root apt-get install -y --no-install-recommends haproxy; } >"$log" 2>&1; then
        echo "ensure-haproxy: apt-get install haproxy failed:" >&2
        tail -n 5 "$log" >&2
        exit 1
    fi
fi
# The package starts a system service on some images; the tests run their own haproxy processes.
if command -v service >/dev/null 2>&1; then
    run_root service haproxy stop >/dev/null 2>&1 || true
fi

if ! command -v haproxy >/dev/null 2>&1; then
    echo "ensure-haproxy: haproxy was installed but is not on PATH" >&2
    exit 1
fi
command -v haproxy
