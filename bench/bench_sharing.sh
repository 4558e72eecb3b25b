#!/usr/bin/env bash
# Sharing and scheduling benchmark (issue 14): a read-only sharee's CalendarEvent/get
# and expanded /query against the owner's (same run), and an invitation to N local
# attendees. EVENTS=N (default 2000) and ATTENDEES=N (default 100).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
EVENTS=${EVENTS:-2000}
ATTENDEES=${ATTENDEES:-100}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for u in owner sharee $(seq -f 'att%03g' 0 $((ATTENDEES - 1))); do
  echo "$u-pw" | $BIN user add "$u" --password-stdin --data "$tmp/data" >/dev/null
done
printf 'log_level = warn\nmax_objects_in_set = 1000\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
JMAPD_PID=$pid /usr/bin/python3 bench/sharing/bench.py http://127.0.0.1:$port "$EVENTS" "$ATTENDEES"
