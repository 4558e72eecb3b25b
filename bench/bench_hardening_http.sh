#!/usr/bin/env bash
# HTTP hardening benchmark (issue 19 §2, §6, §7): starts build/jmapd on a free
# loopback port and measures, from a second process, what hostile requests cost:
# RSS after eight unauthenticated 45 MB uploads, /health latency while four API
# requests wait for a database lock another process holds, the peak memory of an
# authenticated 45 MB upload, a Core/echo of a million {} and a request whose 31
# result references would multiply its response. Each figure has a bound; the
# script fails if one is passed (bench/hardening/hostile.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null 2>&1
printf 'log_level = warn\nthreads = 2\ndb_busy_timeout = 6000\nmax_size_upload = 50000000\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
/usr/bin/python3 bench/hardening/hostile.py "$port" "$pid" "$tmp/data/jmapd.db"
