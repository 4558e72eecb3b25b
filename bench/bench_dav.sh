#!/usr/bin/env bash
# DAV benchmark (issue 20): 10,000 generated events (bench/ical/gen_events.py, 30%
# recurring) in one calendar; measures over CalDAV an initial sync-collection (every
# href and ETag), an incremental sync after 10 changes, a calendar-multiget of 100
# resources, a one-month calendar-query with expand and (after a second calendar is made)
# a Depth 1 PROPFIND of the first, plus jmapd's memory during the
# full sync. Then the same requests on the Radicale peer (../shared/peers/radicale,
# started here unless RADICALE=0) and on the Cyrus IMAP 3.6 peer (../shared/peers/cyrus,
# started here unless CYRUS=0; as root, its packages installed by its setup.sh) and prints
# the ratios, all in one run. EVENTS=N for a smaller run; each figure is printed as it is
# measured; jmapd's are medians of 3-5 runs, a peer's of PEER_RUNS (default 1: Radicale
# needs minutes for some of them, Cyrus about 10 minutes to load 10,000 events). Beside
# each: the floor, the same client fetching an answer of the same size as a static file
# from nginx (bench/nginx.sh; FLOOR=0 leaves it out).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
EVENTS=${EVENTS:-10000}
tmp=$(mktemp -d)
trap 'kill $pid ${ngpid:-} 2>/dev/null; wait $pid 2>/dev/null; [ -z "${peers:-}" ] || "$peers/stop.sh" >/dev/null 2>&1; [ -z "${cyrus:-}" ] || cyrus_stop; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null
/usr/bin/python3 bench/ical/gen_events.py "$EVENTS" "$tmp/events.ics"
t0=$(date +%s.%N)
$BIN import --user bench --data "$tmp/data" "$tmp/events.ics" >/dev/null
echo "import of $EVENTS events: $(echo "$(date +%s.%N) - $t0" | bc) s"
printf 'log_level = warn\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
# ../shared beside the main checkout (also from a worktree of it)
peers=$(cd "$(git rev-parse --git-common-dir 2>/dev/null || echo .git)/../.." && pwd)/shared/peers/radicale
radicale=""
# our own Radicale instance (data dir and port): the shared one is wiped by whoever
# starts it next
export RADICALE_PEER_DIR="$tmp/radicale"
RADICALE_PEER_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export RADICALE_PEER_PORT
if [ "${RADICALE:-1}" = 1 ] && [ -x "$peers/setup.sh" ]; then
  echo "starting a Radicale peer (../shared/peers/radicale/setup.sh, port $RADICALE_PEER_PORT)..."
  if "$peers/setup.sh" >"$tmp/radicale.log" 2>&1; then
    radicale=http://127.0.0.1:$RADICALE_PEER_PORT/test/calendar/
  else
    echo "Radicale peer failed to start: see $tmp/radicale.log"
  fi
fi
# our own Cyrus instance too (bench/cyrus_peer.sh)
. bench/cyrus_peer.sh
cyrus=""
if [ "${CYRUS:-1}" = 1 ] && cyrus_start "$tmp/cyrus"; then
  cyrus=http://127.0.0.1:$CYRUS_PEER_HTTP_PORT/dav/calendars/user/test/Default/
fi
# nginx (bench/nginx.sh) serving the answers' copies that bench.py writes into $tmp/ng/www
. bench/nginx.sh
if [ "${FLOOR:-1}" = 1 ] && nginx_start "$tmp/ng" 1 "location / { root $tmp/ng/www; }"; then
  mkdir -p "$tmp/ng/www"
  export FLOOR_URL=http://127.0.0.1:$ngport/ FLOOR_DIR=$tmp/ng/www
elif [ "${FLOOR:-1}" = 1 ]; then
  echo "warning: no nginx at $NGINX: the floor is left out (scripts/deps.sh bench)"
fi
# the same events with a VTIMEZONE per zone (the generated file names IANA zones only)
$BIN convert "$tmp/events.ics" --to ics > "$tmp/events-tz.ics"
export CYRUS_ICS="$tmp/events-tz.ics"
/usr/bin/python3 bench/dav/bench.py "http://127.0.0.1:$port" bench bench-pw "$pid" \
  "$tmp/events.ics" "$radicale" "$cyrus"
