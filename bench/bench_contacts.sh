#!/usr/bin/env bash
# Contacts benchmark (issue 5 item 7): ContactCard/query text search over 10,000
# cards. Generates a 10,000-card vCard file, imports it with `jmapd import`, starts
# build/jmapd on a free loopback port and times text searches from a second
# process over one keep-alive connection (so each figure is one request's round
# trip, client included). Target: p50 <= 5 ms. Also reports the first query (which
# builds the account's query index), a sorted search, the import time, and
# ContactCard/set and /get of the same cards, 100 a call (bench/contacts/jmapd.py).
# HOLD=N prints the port and keeps the server idle N seconds first (for probing by hand).
# Then the same on the Cyrus 3.6 peer (bench/contacts/cyrus.py; the peer is started here
# with ../shared/peers/cyrus/setup.sh unless CYRUS=0) and the jmapd/Cyrus ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
CARDS=${CARDS:-10000}
QUERIES=${QUERIES:-300}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data" >/dev/null 2>&1

# Deterministic cards: names from small lists, so a surname matches ~1% of cards.
/usr/bin/python3 - "$CARDS" > "$tmp/cards.vcf" <<'PY'
import random, sys
n = int(sys.argv[1])
rnd = random.Random(9610)
given = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
         "Karin", "Lars", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara"]
family = [f"{a}{b}" for a in ["Berg", "Stein", "Wald", "Feld", "Brunn", "Hof", "Bach", "Mann",
                              "Holz", "Eich"] for b in ["er", "mann", "inger", "ow", "ski",
                                                        "berg", "huber", "meier", "son", "ez"]]
cities = ["Berlin", "Paris", "Madrid", "Roma", "Wien", "Oslo", "Lisboa", "Praha", "Dublin", "Bern"]
orgs = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
out = []
for i in range(n):
    g, f = rnd.choice(given), rnd.choice(family)
    out.append("\r\n".join([
        "BEGIN:VCARD", "VERSION:4.0", f"UID:urn:uuid:00000000-0000-4000-8000-{i:012d}",
        f"FN:{g} {f}", f"N:{f};{g};;;", f"EMAIL;TYPE=work:{g.lower()}.{f.lower()}{i}@example.com",
        f"TEL;TYPE=cell:+49 30 {rnd.randrange(10**7):07d}",
        f"ORG:{rnd.choice(orgs)}", f"ADR;TYPE=home:;;{rnd.randrange(1, 200)} Main St;"
        f"{rnd.choice(cities)};;{rnd.randrange(10000, 99999)};",
        f"NOTE:Card number {i}", "END:VCARD", ""]))
sys.stdout.write("".join(out))
PY
t0=$(date +%s.%N)
$BIN import --user bench --data "$tmp/data" "$tmp/cards.vcf" >/dev/null
t1=$(date +%s.%N)

printf 'log_level = warn\nmax_concurrent_requests = 64\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done

[ -n "${HOLD:-}" ] && { echo "port $port"; sleep "$HOLD"; }
TERMS=(bergmann steinow "anna wald" chloé paris globex example.com '"main st"' hofer "+49 30 1"
       "card number 77" eichez "jonas brunn")
/usr/bin/python3 bench/contacts/jmapd.py "$port" "$tmp/cards.vcf" "$QUERIES" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$tmp/ours.json" "${TERMS[@]}"
kill $pid; wait $pid 2>/dev/null || true; pid=

# The same cards and searches on Cyrus.
peers=$(cd .. && pwd)/shared/peers/cyrus
if [ "${CYRUS:-1}" = 1 ] && [ -x "$peers/setup.sh" ] && [ ! -f /var/lib/cyrus-peer/run/master.pid ]; then
  echo "starting the Cyrus peer (../shared/peers/cyrus/setup.sh)..."
  "$peers/setup.sh" >"$tmp/cyrus.log" 2>&1 || echo "Cyrus peer failed to start: see $tmp/cyrus.log"
fi
[ "${CYRUS:-1}" = 1 ] || export CYRUS_PEER_ENV=/nonexistent
# Cyrus takes about a second a search at 10,000 cards: fewer searches there.
/usr/bin/python3 bench/contacts/cyrus.py "$tmp/cards.vcf" "${CYRUS_QUERIES:-40}" "$tmp/cyrus.json" \
    "${TERMS[@]}"
if [ -f "$tmp/cyrus.json" ]; then
  /usr/bin/python3 bench/contacts/compare.py "$tmp/ours.json" "$tmp/cyrus.json"
fi
