#!/usr/bin/env bash
# vdirsyncer between jmapd and Radicale (issue 20): one vdirsyncer pair syncs jmapd's
# calendar and address book with a Radicale peer's (../shared/peers/radicale, our own
# instance: data dir and port) both ways through creates, changes, deletes and a conflict
# on each side (bench/dav/vdirsyncer_peer.py), and checks after every sync that both
# servers hold the same items (and JMAP sees jmapd's). ITEMS=N events per side (100).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
ITEMS=${ITEMS:-100}
command -v vdirsyncer >/dev/null || { echo "vdirsyncer is not installed (scripts/deps.sh test)"; exit 0; }
tmp=$(mktemp -d)
peers=$(cd "$(git rev-parse --git-common-dir 2>/dev/null || echo .git)/../.." && pwd)/shared/peers/radicale
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; RADICALE_PEER_DIR="$tmp/radicale" "$peers/stop.sh" >/dev/null 2>&1; rm -rf "$tmp"; true' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null
printf 'log_level = warn\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
if [ ! -x "$peers/setup.sh" ] || [ "$(id -u)" != 0 ]; then
  echo "no Radicale peer here (../shared/peers/radicale, as root): skipped"; exit 0
fi
export RADICALE_PEER_DIR="$tmp/radicale" RADICALE_PEER_PORT=$(free_port)
"$peers/setup.sh" >"$tmp/radicale.log" 2>&1 || { echo "Radicale failed: $(tail -3 "$tmp/radicale.log")"; exit 1; }
/usr/bin/python3 bench/dav/vdirsyncer_peer.py "http://127.0.0.1:$port" bench bench-pw \
  "http://127.0.0.1:$RADICALE_PEER_PORT" test test "$ITEMS"
