#!/usr/bin/env bash
# Lock waits of concurrent readers (issue 21 §1), for a loaded machine where the
# two-connection throughput ratio means little: the server (BIN) on a copy of DATA (an
# account made as bench_scale.sh makes it: user bench, password bench-pw), an expanded
# one-month query and a /get of 50 of its ids, each with wrk on 1 and then 2 connections
# for 4 s, while `perf stat` counts the server's futex calls (a contended mutex or a
# condition variable costs one or two; an uncontended mutex none). Prints per request:
# futex calls, the server's CPU (ms, /proc) and requests/s.
# usage: bench/scale/lockwait.sh BIN DATA   (needs perf and wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$1
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cp -r "$2" "$tmp/data"
echo 'log_level = warn' > "$tmp/conf"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>/dev/null &
pid=$!
for _ in $(seq 200); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.05; done
/usr/bin/python3 - "$port" "$tmp" <<'PY'
import base64, http.client, json, sys
port, tmp = int(sys.argv[1]), sys.argv[2]
hdr = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode(),
       "Content-Type": "application/json"}
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/jmap/session", headers=hdr)
acct = json.loads(c.getresponse().read())["primaryAccounts"]["urn:ietf:params:jmap:calendars"]
using = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"]
def call(calls):
    c.request("POST", "/jmap/api/", json.dumps({"using": using, "methodCalls": calls}), hdr)
    return json.loads(c.getresponse().read())["methodResponses"]
month = ["CalendarEvent/query", {"accountId": acct, "filter": {
    "after": "2018-08-01T00:00:00", "before": "2018-09-01T00:00:00"},
    "expandRecurrences": True, "sort": [{"property": "start"}]}, "q"]
ids = call([month])[0][1]["ids"]  # the month's series parsed before timing
get50 = ["CalendarEvent/get", {"accountId": acct, "ids": ids[:50]}, "g"]
call([get50])
for name, calls in (("month", [month]), ("get50", [get50])):
    body = json.dumps({"using": using, "methodCalls": calls})
    open(f"{tmp}/{name}.lua", "w").write(
        f'wrk.method = "POST"\nwrk.headers["Authorization"] = "{hdr["Authorization"]}"\n'
        f'wrk.headers["Content-Type"] = "application/json"\nlocal r\n'
        f'init = function(args) r = wrk.format(nil, "/jmap/api/", nil, {json.dumps(body)}) end\n'
        f'request = function() return r end\n')
PY
ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
hz=$(getconf CLK_TCK)
for kind in month get50; do
  for c in 1 2; do
    perf stat -x, -e syscalls:sys_enter_futex -p $pid -o "$tmp/stat" 2>/dev/null &
    ppid=$!
    sleep 0.3
    c0=$(ticks)
    n=$(wrk -t$c -c$c -d4s -s "$tmp/$kind.lua" http://127.0.0.1:$port | awk '/requests in/{print $1}')
    c1=$(ticks)
    kill -INT $ppid
    wait $ppid || true
    f=$(awk -F, '/futex/{print $1}' "$tmp/stat")
    awk -v k=$kind -v c=$c -v n=$n -v f=$f -v a=$c0 -v b=$c1 -v hz=$hz 'BEGIN{
      printf "%-6s %d connection(s): %7.1f requests/s, futex calls per request %6.2f, server CPU per request %.3f ms\n",
             k, c, n / 4, f / n, (b - a) * 1000 / hz / n}'
  done
done
