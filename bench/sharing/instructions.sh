#!/usr/bin/env bash
# Instructions, not time (issue 14): the server's instruction count (valgrind callgrind)
# for 20 calls as the owner and 20 as a read-only sharee of each of: an expanded
# one-month CalendarEvent/query, CalendarEvent/get of 200 ids, an unexpanded page
# (index path), a page at position 1000 each the first after a change; same data as bench_sharing.sh (EVENTS=N, default 2000), collection
# switched on around each batch only (CG_KEEP=DIR keeps the profiles). Independent of the machine's load, so a sharee's
# overhead shows even when wall time at 1 ms is noise. Slow (valgrind): not run by
# `make bench`; run by hand: bash bench/sharing/instructions.sh [BIN]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/jmapd}")
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for u in owner sharee; do
  echo "$u-pw" | $BIN user add "$u" --password-stdin --data "$tmp/data" >/dev/null
done
printf 'log_level = warn\nmax_objects_in_set = 1000\n' > "$tmp/conf"
(cd "$tmp"; exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.out" \
  "$BIN" serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log") &
pid=$!
for _ in $(seq 600); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.5; done
/usr/bin/python3 bench/sharing/instructions.py http://127.0.0.1:$port $pid "${EVENTS:-2000}"
kill $pid; wait $pid 2>/dev/null || true
pid=
[ -n "${CG_KEEP:-}" ] && cp "$tmp"/cg.out.* "$CG_KEEP"/
for k in 1 2 3 4; do
  o=$(grep -h '^totals:' "$tmp/cg.out.$((2 * k - 1))" | cut -d' ' -f2)
  s=$(grep -h '^totals:' "$tmp/cg.out.$((2 * k))" | cut -d' ' -f2)
  name=$(echo "expanded 1-month query|CalendarEvent/get 200 ids|unexpanded query page (index)|page at 1000 after a change" | cut -d'|' -f$k)
  /usr/bin/python3 -c "o, s = $o, $s; print(f'$name, instructions per call: owner {o / 20 / 1e6:.2f} M, sharee {s / 20 / 1e6:.2f} M, ratio {s / o:.3f} ({\"within\" if s <= o * 1.2 else \"OVER\"} the 20% bound)')"
done
