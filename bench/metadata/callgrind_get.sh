#!/usr/bin/env bash
# Instructions (callgrind) of CalendarEvent/get of 50 events with 1 KB metadata each
# against 50 without (issue 18's /get bound), on the release binary: the figure a shared
# machine cannot disturb. Prints both totals, their ratio and the top functions of each
# run (OUT=dir keeps the callgrind files). Usage: bench/metadata/callgrind_get.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/jmapd}
ROUNDS=${1:-20}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
for mode in plain rich; do
    tmp=$(mktemp -d)
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null
    valgrind --tool=callgrind --callgrind-out-file="$OUT/$mode.%p" --collect-atstart=yes \
        $BIN serve --data "$tmp/data" --listen 127.0.0.1:$port 2>"$tmp/log" &
    pid=$!
    for _ in $(seq 1800); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.1; done
    curl -sf http://127.0.0.1:$port/health >/dev/null || { cat "$tmp/log"; exit 1; }
    PYTHONPATH=bench/metadata /usr/bin/python3 bench/metadata/callgrind_get.py \
        http://127.0.0.1:$port $mode "$ROUNDS" $pid
    kill $pid; wait $pid 2>/dev/null || true
    rm -rf "$tmp"
done
# the dump taken after the gets is the one with the most recent part number
total() { ls -t "$OUT"/$1.*.* 2>/dev/null | head -1; }
p=$(total plain) r=$(total rich)
ip=$(callgrind_annotate "$p" | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
ir=$(callgrind_annotate "$r" | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "CalendarEvent/get x$ROUNDS, 50 events: without metadata $ip Ir, with 1 KB each $ir Ir:" \
     "ratio $(echo "scale=3; $ir / $ip" | bc)"
for f in "$p" "$r"; do echo "== $f"; callgrind_annotate --inclusive=no "$f" | sed -n '/Ir/,$p' | head -25; done
