#!/usr/bin/env bash
# CalendarEvent benchmark (issue 4): 10,000 generated events, 20% recurring with
# overrides, created, fetched and queried (one-month expandRecurrences windows) on
# build/jmapd, then the same on the Cyrus peer if ../shared/peers/cyrus/setup.sh has
# started it; prints our/Cyrus ratios. EVENTS=N for a smaller run. The Cyrus peer is
# started here (../shared/peers/cyrus/setup.sh, which installs it) unless CYRUS=0.
# Then CalendarEvent/changes and Core/echo with wrk on both (bench/events/changes.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data"
printf 'log_level = warn\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
peers=$(cd .. && pwd)/shared/peers/cyrus
if [ "${CYRUS:-1}" = 1 ] && [ -x "$peers/setup.sh" ] && [ ! -f /var/lib/cyrus-peer/run/master.pid ]; then
  echo "starting the Cyrus peer (../shared/peers/cyrus/setup.sh)..."
  "$peers/setup.sh" >"$tmp/cyrus.log" 2>&1 || echo "Cyrus peer failed to start: see $tmp/cyrus.log"
fi
[ "${CYRUS:-1}" = 1 ] || export CYRUS_PEER_ENV=/nonexistent
cd bench/events && /usr/bin/python3 bench.py http://127.0.0.1:$port bench bench-pw
# issue 21 §5: a tiny call (/changes after one update) against Core/echo and Cyrus
/usr/bin/python3 changes.py http://127.0.0.1:$port bench bench-pw $pid
