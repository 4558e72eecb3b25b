#!/bin/sh
# bench_vcard.sh — vCard import throughput (issue 5, item 7): parse a generated
# 10,000-card file and convert every card to JSContact with `build/jmapd convert`,
# against Debian's python3-vobject parsing the same file (parse only), in the same
# run. Prints cards/s for both and the ratio (target >= 30).
# Run from the repository root after `make` (build/jmapd, the release build).
set -eu
cd "$(dirname "$0")/.."
BIN=${JMAPD_BIN:-build/jmapd}
N=${BENCH_VCARD_CARDS:-10000}
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "bench_vcard: $BIN missing (run make)"; exit 1; }
$PY -c 'import vobject' 2>/dev/null || { echo "bench_vcard: python3-vobject missing (scripts/deps.sh bench)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY bench/vcard/gen_cards.py "$N" > "$tmp/cards.vcf"

# jmapd, best of 3 runs each (wall time of the whole process, file read included):
#   import:  `convert --check`: parse + convert every card to a JSContact Card
#            (validated), no JSON text — what the brief's figure measures;
#   convert: `convert`: the same plus the JSON text on stdout.
best() {
    b=""
    for run in 1 2 3; do
        t=$($PY -c '
import subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
if p.returncode: sys.exit("jmapd convert failed")
print(time.perf_counter() - t0)' "$@")
        b=$($PY -c 'import sys; print(min(float(x) for x in sys.argv[1:]))' $b $t)
    done
    echo "$b"
}
imp=$(best "$BIN" convert "$tmp/cards.vcf" --check)
full=$(best "$BIN" convert "$tmp/cards.vcf")
cards=$("$BIN" convert "$tmp/cards.vcf" --check)
[ "$cards" -eq "$N" ] || { echo "bench_vcard: jmapd converted $cards of $N cards"; exit 1; }
json=$("$BIN" convert "$tmp/cards.vcf" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$json" -eq "$N" ] || { echo "bench_vcard: jmapd wrote $json of $N cards"; exit 1; }

set -- $($PY bench/vcard/vobject_parse.py "$tmp/cards.vcf")
vcards=$1 vsecs=$2
[ "$vcards" -eq "$N" ] || { echo "bench_vcard: vobject read $vcards of $N cards"; exit 1; }

$PY - "$N" "$imp" "$full" "$vsecs" <<'PYEOF'
import os, sys
n, imp, full, theirs = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
a, f, b = n / imp, n / full, n / theirs
print(f"vcard import ({n} cards; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
print(f"  jmapd import (parse + convert):  {a:10.0f} cards/s  ({imp:.3f} s)")
print(f"  jmapd convert (+ JSON text):     {f:10.0f} cards/s  ({full:.3f} s)")
print(f"  python3-vobject (parse only):    {b:10.0f} cards/s  ({theirs:.3f} s)")
print(f"  ratio import / vobject:          {a / b:10.1f}x  (target >= 30x)")
print(f"  ratio convert / vobject:         {f / b:10.1f}x")
PYEOF
