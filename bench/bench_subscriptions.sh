#!/usr/bin/env bash
# Subscription benchmark (issue 17): refreshing an unchanged 10,000-event feed (one
# conditional request, no database write) and one where 10 events changed (target
# <= 50 ms), against the first full import of the same feed in the same run.
# FEED_EVENTS=N changes the size. Then the same through a CalDAV collection the feed
# links (subscription-upgrade §7.3, bench_dav.py): initial sync, no change, 10 changed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null
printf 'log_level = debug\nfetch_allow = 127.0.0.0/8\n' > "$tmp/conf"
/usr/bin/python3 bench/subscriptions/bench.py "$BIN" "$tmp/data" "$tmp/conf" "${FEED_EVENTS:-10000}"
# The same kind of change through a CalDAV collection the feed links (§7.3): jmapd
# serves the collection (its own data directory), the subscriber syncs it.
dav=$(mktemp -d)
trap 'rm -rf "$tmp" "$dav"' EXIT
printf 'fetch_allow = 127.0.0.0/8\n' > "$dav/conf"
/usr/bin/python3 bench/subscriptions/bench_dav.py "$BIN" "$dav/data" "$dav/conf" "${FEED_EVENTS:-10000}"
