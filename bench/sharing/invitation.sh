#!/usr/bin/env bash
# Instructions, not time (issue 14): the server's instruction count (valgrind callgrind)
# of an invitation to N local attendees (ATTENDEES=N, default 100; bench_sharing.sh's
# invitation), averaged over three. Independent of the machine's load. Slow (valgrind):
# not run by `make bench`; by hand: bash bench/sharing/invitation.sh [BIN]
# (CG_KEEP=DIR keeps the profile for callgrind_annotate).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/jmapd}")
N=${ATTENDEES:-100}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for u in owner $(seq -f 'att%03g' 0 $((N - 1))); do
  echo "$u-pw" | $BIN user add "$u" --password-stdin --data "$tmp/data" >/dev/null
done
printf 'log_level = warn\n' > "$tmp/conf"
(cd "$tmp"; exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.out" \
  "$BIN" serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log") &
pid=$!
for _ in $(seq 600); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.5; done
/usr/bin/python3 bench/sharing/invitation.py http://127.0.0.1:$port $pid "$N"
kill $pid; wait $pid 2>/dev/null || true
pid=
[ -n "${CG_KEEP:-}" ] && cp "$tmp"/cg.out.* "$CG_KEEP"/
t=$(grep -h '^totals:' "$tmp/cg.out.1" | cut -d' ' -f2)
/usr/bin/python3 -c "print(f'invitation to $N local attendees, instructions per invitation: {$t / 3 / 1e6:.1f} M')"
