#!/usr/bin/env bash
# Subscription benchmark (issue 17): refreshing an unchanged 10,000-event feed (one
# conditional request, no database write) and one where 10 events changed (target
# <= 50 ms), against the first full import of the same feed in the same run.
# FEED_EVENTS=N changes the size.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null
printf 'log_level = debug\nfetch_allow = 127.0.0.0/8\n' > "$tmp/conf"
/usr/bin/python3 bench/subscriptions/bench.py "$BIN" "$tmp/data" "$tmp/conf" "${FEED_EVENTS:-10000}"
