#!/usr/bin/env bash
# Task benchmark (issue 16): 10,000 generated tasks (TASKS=N) created 100 per Task/set,
# then a due-date range query and a text query (p50, target <= 5 ms each, limit 50), and
# the same number of events created 100 per CalendarEvent/set in the same run as the
# baseline for Task/set (target: tasks at least as fast).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null
printf 'log_level = warn\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
/usr/bin/python3 bench/tasks/bench.py "$port" "${TASKS:-10000}" "${QUERIES:-200}" "$pid"
[ -n "${HOLD:-}" ] && { echo "port $port"; sleep "$HOLD"; }
