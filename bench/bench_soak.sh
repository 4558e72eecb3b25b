#!/usr/bin/env bash
# Soak benchmark (issue 19 §8): SOAK_SECONDS (default 300) of mixed load on build/jmapd
# from several users at once — CalendarEvent creates, gets, queries (some expanded) and
# destroys, ContactCard creates, text queries and destroys, uploads of 64 KiB to 4 MiB,
# large Core/echo requests, and EventSource streams opened and closed — with the
# server's RSS sampled every second. Each user keeps a bounded set of objects (the
# oldest are destroyed), so the load is steady and the memory it needs should be too.
# Passes when RSS at the end is within 20% of RSS after the first fifth of the run
# (after the first minute, for the default five minutes), each the median of a window
# of a tenth of the run. Baseline: that RSS itself.
# Also printed: RSS SOAK_IDLE (15) seconds after the load stops, against the peak.
# Quick run: SOAK_SECONDS=60 bench/bench_soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
SOAK_SECONDS=${SOAK_SECONDS:-300}
USERS=${SOAK_USERS:-4}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for i in $(seq "$USERS"); do
  echo "soak-pw-$i" | $BIN user add "soak$i" --password-stdin --data "$tmp/data"
done
printf 'log_level = warn\nmax_concurrent_requests = 16\n' > "$tmp/conf"
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

# RSS every second from this shell, not from the Python load (whose threads would
# delay a sampling thread): "seconds-since-start kB" lines.
( t0=$(date +%s.%N)
  while kill -0 $pid 2>/dev/null; do
    echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')" \
         "$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)"
    sleep 1
  done ) > "$tmp/rss" &
sampler=$!

set +e
/usr/bin/python3 - "$port" "$pid" "$SOAK_SECONDS" "$USERS" <<'PY'
import base64, http.client, json, random, socket, sys, threading, time

port, pid, seconds, nusers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
CORE, CAL = "urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"
CON = "urn:ietf:params:jmap:contacts"
stop = threading.Event()
errors, counts, lock = [], {}, threading.Lock()


def note(kind, ok=True, detail=""):
    with lock:
        counts[kind] = counts.get(kind, 0) + 1
        if not ok and len(errors) < 20:
            errors.append(f"{kind}: {detail[:200]}")


class Client:
    def __init__(self, user):
        self.auth = "Basic " + base64.b64encode(f"soak{user}:soak-pw-{user}".encode()).decode()
        self.c = None
        s = self.get("/jmap/session")
        self.acct = s["primaryAccounts"][CAL]
        self.cacct = s["primaryAccounts"].get(CON, self.acct)

    def req(self, method, path, body=b"", ctype="application/json"):
        for attempt in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                self.c.request(method, path, body=body or None,
                               headers={"Authorization": self.auth, "Content-Type": ctype})
                r = self.c.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                self.c = None
                if attempt:
                    raise

    def get(self, path):
        st, body = self.req("GET", path)
        assert st == 200, body
        return json.loads(body)

    def api(self, kind, calls, using=(CORE, CAL, CON)):
        st, body = self.req("POST", "/jmap/api/",
                            json.dumps({"using": list(using), "methodCalls": calls}).encode())
        note(kind, st == 200, body.decode(errors="replace"))
        return json.loads(body)["methodResponses"] if st == 200 else []


def text(n):
    words = ["meeting", "review", "lunch", "planning", "budget", "design", "call", "offsite"]
    return " ".join(random.choice(words) for _ in range(n))


def event(cal, i):
    e = {"calendarIds": {cal: True}, "title": text(4), "description": text(80),
         "start": f"2026-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}T10:00:00",
         "timeZone": "Europe/Berlin", "duration": "PT1H"}
    if i % 5 == 0:
        e["recurrenceRule"] = {"@type": "RecurrenceRule", "frequency": "weekly", "count": 30}
    return e


def card(book, i):
    return {"addressBookIds": {book: True}, "@type": "Card", "version": "1.0",
            "name": {"full": f"Person {i} {text(2)}"}, "notes": {"n": {"note": text(40)}},
            "emails": {"e": {"address": f"p{i}@example.com"}}}


def worker(user, seed):
    random.seed(seed)
    c = Client(user)
    cal = c.api("setup", [["Calendar/get", {"accountId": c.acct}, "0"]])[0][1]["list"][0]["id"]
    book = c.api("setup", [["AddressBook/get", {"accountId": c.cacct}, "0"]])[0][1]["list"][0]["id"]
    events, cards, i = [], [], 0
    while not stop.is_set():
        i += 1
        out = c.api("event-set", [["CalendarEvent/set", {"accountId": c.acct, "create": {
            f"e{k}": event(cal, i * 10 + k) for k in range(10)}}, "0"]])
        if out:
            events += [v["id"] for v in (out[0][1].get("created") or {}).values()]
        c.api("event-get", [["CalendarEvent/get", {"accountId": c.acct, "ids": events[-50:]}, "0"]])
        c.api("event-query", [["CalendarEvent/query", {"accountId": c.acct, "filter": {
            "after": "2026-03-01T00:00:00Z", "before": "2026-05-01T00:00:00Z"},
            "expandRecurrences": i % 2 == 0}, "0"]])
        out = c.api("card-set", [["ContactCard/set", {"accountId": c.cacct, "create": {
            f"c{k}": card(book, i * 10 + k) for k in range(5)}}, "0"]])
        if out:
            cards += [v["id"] for v in (out[0][1].get("created") or {}).values()]
        c.api("card-query", [["ContactCard/query", {"accountId": c.cacct,
                                                    "filter": {"text": random.choice(["review", "Person 1", "lunch"])}}, "0"]])
        if len(events) > 400:
            c.api("event-destroy", [["CalendarEvent/set", {"accountId": c.acct, "destroy": events[:100]}, "0"]])
            events = events[100:]
        if len(cards) > 200:
            c.api("card-destroy", [["ContactCard/set", {"accountId": c.cacct, "destroy": cards[:50]}, "0"]])
            cards = cards[50:]
        if i % 4 == 0:
            size = random.choice([64 << 10, 512 << 10, 4 << 20, 16 << 20])
            st, body = c.req("POST", f"/jmap/upload/{c.acct}/", random.randbytes(size),
                             "application/octet-stream")
            note("upload", st == 201, body.decode(errors="replace"))
        if i % 6 == 0:
            big = {"items": [{"k": j, "v": text(3)} for j in range(20000)]}
            c.api("echo-1MB", [["Core/echo", big, "0"]], using=(CORE,))


def pusher(user):
    auth = "Basic " + base64.b64encode(f"soak{user}:soak-pw-{user}".encode()).decode()
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(f"GET /jmap/eventsource/?types=*&closeafter=no&ping=1 HTTP/1.1\r\n"
                      f"Host: x\r\nAuthorization: {auth}\r\n\r\n".encode())
            end = time.monotonic() + random.uniform(0.5, 3)
            s.settimeout(0.5)
            while time.monotonic() < end:
                try:
                    if not s.recv(65536):
                        break
                except socket.timeout:
                    pass
            s.close()
            note("eventsource")
        except OSError as e:
            note("eventsource", False, str(e))
            time.sleep(0.5)


threads = [threading.Thread(target=worker, args=(u, u * 7 + k), daemon=True)
           for u in range(1, nusers + 1) for k in range(2)]
threads += [threading.Thread(target=pusher, args=(u,), daemon=True) for u in range(1, nusers + 1)]
for t in threads:
    t.start()
t0 = time.monotonic()
while time.monotonic() - t0 < seconds:
    time.sleep(min(30, seconds - (time.monotonic() - t0)))
    print(f"  {time.monotonic() - t0:5.0f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())
                                                    if k != "setup"), flush=True)
stop.set()
for t in threads:
    t.join(70)
if errors:
    print("errors (first 20):\n  " + "\n  ".join(errors))
sys.exit(1 if errors else 0)
PY
load=$?
# and then idle: what the server gives back once the load has stopped
sleep "${SOAK_IDLE:-15}"
kill $sampler 2>/dev/null; wait $sampler 2>/dev/null
after_idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
# Uploads and large requests come and go, so RSS moves by tens of MB from one second to
# the next; each point is the median of a window of a tenth of the run (30 s of 300):
# "after the first minute" is the window starting at a fifth of the run, "the end" the
# last window. Also printed: the peak.
warm_at=$((SOAK_SECONDS / 5)) win=$((SOAK_SECONDS / 10))
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }'; }
warm=$(awk -v a="$warm_at" -v b="$((warm_at + win))" '$2 != "" && $1 >= a && $1 < b {print $2}' "$tmp/rss" | median)
end=$(awk -v a="$((SOAK_SECONDS - win))" -v b="$SOAK_SECONDS" '$2 != "" && $1 >= a && $1 <= b {print $2}' "$tmp/rss" | median)
peak=$(awk -v d="$SOAK_SECONDS" '$2 != "" && $1 <= d {print $2}' "$tmp/rss" | sort -n | tail -1)
n=$(awk -v d="$SOAK_SECONDS" '$2 != "" && $1 <= d' "$tmp/rss" | wc -l)
awk 'NR % 30 == 0 || NR == 1 { printf "  RSS at %5.0f s: %d MB\n", $1, $2 / 1024 }' "$tmp/rss"
echo "RSS ($n samples, medians of ${win} s windows): idle $((idle / 1024)) MB," \
     "after ${warm_at} s $((warm / 1024)) MB, end $((end / 1024)) MB, peak $((peak / 1024)) MB:" \
     "end / after warm-up $(awk -v a="$end" -v b="$warm" 'BEGIN {printf "%.2f", a / b}') (target <= 1.20)"
echo "RSS ${SOAK_IDLE:-15} s after the load stopped: $((after_idle / 1024)) MB" \
     "($(awk -v a="$after_idle" -v b="$peak" 'BEGIN {printf "%.0f", 100 * a / b}')% of the peak)"
[ "$load" = 0 ] || { echo "the load saw errors"; exit 1; }
awk -v a="$end" -v b="$warm" 'BEGIN { exit !(a <= 1.2 * b) }'
