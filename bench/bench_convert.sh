#!/bin/sh
# bench_convert.sh — issue 21 target 4: `jmapd convert` of the generated 10,000-event file
# to JSCalendar text against ical.js 2.x parsing the same file to its tree, and `jmapd
# expand` over a year against ical.js parsing and expanding it, in the same run (ical.js
# from npm in bench/node/, bench-only; vCard import against python3-vobject is
# bench_vcard.sh). Wall time, best of 3 fresh processes each; for ical.js the time inside
# Node from reading the file to the result (its start-up left out, which favours it), and
# its whole-process wall time beside it. Targets: convert faster than ical.js's parse;
# expand >= 3x ical.js. Also (issue 12): 20 events of 500 attendees with 64 JSPROPs each
# against the same without JSPROPs (bench/ical/gen_jsprops.py), CPU ratio, bound 3x.
set -eu
cd "$(dirname "$0")/.."
BIN=${JMAPD_BIN:-build/jmapd}
PY=/usr/bin/python3
N=${CONVERT_BENCH_EVENTS:-10000}
FROM=2025-01-01T00:00:00Z
TO=2026-01-01T00:00:00Z
[ -x "$BIN" ] || { echo "bench_convert: $BIN not built (run make)"; exit 1; }
command -v node >/dev/null || { echo "bench_convert: node missing (scripts/deps.sh bench)"; exit 1; }
[ -d bench/node/node_modules/ical.js ] || (cd bench/node && npm install --no-audit --no-fund --silent) ||
    { echo "bench_convert: npm install of ical.js failed"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
$PY bench/ical/gen_events.py "$N" "$TMP/cal.ics"

# best of 3: "wall cpu" of a whole process (the least of each), or with INNER=1 also the
# least of the first field the command prints (ical.js's own timing)
best() {
    $PY - "$@" <<'PYEOF'
import os, resource, subprocess, sys, time
walls, cpus, inner = [], [], []
for _ in range(3):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=True)
    walls.append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    if os.environ.get("INNER"):
        inner.append(float(p.stdout.split()[0]))
print(f"{min(walls):.4f} {min(cpus):.4f} {min(inner) if inner else 0:.4f}")
PYEOF
}
$PY bench/ical/gen_jsprops.py 20 "$TMP/jsprops.ics"
$PY bench/ical/gen_jsprops.py 20 "$TMP/nojsprops.ics" --without
set -- $(best "$BIN" convert "$TMP/jsprops.ics"); jsp_c=$2
set -- $(best "$BIN" convert "$TMP/nojsprops.ics"); nojsp_c=$2
occ=$("$BIN" expand "$TMP/cal.ics" --from $FROM --to $TO | wc -l)
set -- $(best "$BIN" convert "$TMP/cal.ics"); conv_w=$1 conv_c=$2
set -- $(best "$BIN" expand "$TMP/cal.ics" --from $FROM --to $TO); exp_w=$1 exp_c=$2
set -- $(INNER=1 best node bench/node/ical_baseline.mjs parse "$TMP/cal.ics"); jp_w=$1 jp_c=$2 jp_i=$3
set -- $(INNER=1 best node bench/node/ical_baseline.mjs expand "$TMP/cal.ics" $FROM $TO); je_w=$1 je_c=$2 je_i=$3
jocc=$(node bench/node/ical_baseline.mjs expand "$TMP/cal.ics" $FROM $TO | cut -d' ' -f2)

$PY - "$N" "$occ" "$jocc" "$conv_w" "$conv_c" "$exp_w" "$exp_c" "$jp_w" "$jp_c" "$jp_i" \
    "$je_w" "$je_c" "$je_i" "$jsp_c" "$nojsp_c" <<'PYEOF'
import os, sys
n, occ, jocc = map(int, sys.argv[1:4])
cw, cc, ew, ec, jpw, jpc, jpi, jew, jec, jei, jspc, nojspc = map(float, sys.argv[4:])
print(f"convert/expand, {n} events ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}); wall s (CPU s)")
print(f"  jmapd convert .ics -> JSCalendar text  {cw:8.3f} ({cc:.3f})")
print(f"  ical.js parse to its tree, in Node     {jpi:8.3f}   (process {jpw:.3f} wall, {jpc:.3f} CPU)")
print(f"  ratio ical.js parse / jmapd convert    {jpi / cw:8.2f}x  (target > 1)")
print(f"  jmapd expand over a year               {ew:8.3f} ({ec:.3f})  {occ} occurrences")
print(f"  ical.js parse + expand, in Node        {jei:8.3f}   (process {jew:.3f} wall, {jec:.3f} CPU)  {jocc} occurrences")
print(f"  ratio ical.js expand / jmapd expand    {jei / ew:8.2f}x  (target >= 3)")
print(f"  convert, 64 JSPROPs an event / none    {jspc / max(nojspc, 0.001):8.2f}x  ({jspc:.3f} / {nojspc:.3f} CPU s; bound <= 3)")
PYEOF
