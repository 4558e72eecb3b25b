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

# jmapd: best of 3 runs (wall time of the whole process: read, parse, convert,
# serialise the JSON array)
best=""
for run in 1 2 3; do
    t=$($PY -c '
import subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run([sys.argv[1], "convert", sys.argv[2]], stdout=subprocess.DEVNULL)
if p.returncode: sys.exit("jmapd convert failed")
print(time.perf_counter() - t0)' "$BIN" "$tmp/cards.vcf")
    best=$($PY -c 'import sys; a=[float(x) for x in sys.argv[1:] if x]; print(min(a))' $best $t)
done
cards=$("$BIN" convert "$tmp/cards.vcf" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$cards" -eq "$N" ] || { echo "bench_vcard: jmapd converted $cards of $N cards"; exit 1; }

set -- $($PY bench/vcard/vobject_parse.py "$tmp/cards.vcf")
vcards=$1 vsecs=$2
[ "$vcards" -eq "$N" ] || { echo "bench_vcard: vobject read $vcards of $N cards"; exit 1; }

$PY - "$N" "$best" "$vsecs" <<'PYEOF'
import sys
n, ours, theirs = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
a, b = n / ours, n / theirs
print(f"vcard import ({n} cards, parse + convert to JSContact)")
print(f"  jmapd convert:           {a:12.0f} cards/s  ({ours:.3f} s)")
print(f"  python3-vobject (parse): {b:12.0f} cards/s  ({theirs:.3f} s)")
print(f"  ratio:                   {a / b:12.1f}x  (target >= 30x)")
PYEOF
