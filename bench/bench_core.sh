#!/usr/bin/env bash
# Core benchmark (issues 2, 21 §3): wrk from a second process against build/jmapd on
# loopback. Core/echo, Calendar/get and Calendar/set (one update per request),
# against nginx serving a static 20-byte file (the HTTP ceiling, issue 21: Core/echo
# >= 60% of it) and /health of the same server; each with the server's CPU per
# request (from /proc: what the load of this shared machine changes least); then idle
# RSS and the RSS cost of 1,000 idle EventSource connections.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/jmapd}
DUR=${DUR:-3}
CONNS=${CONNS:-16}
tmp=$(mktemp -d)
ngpid=
trap 'kill $pid $ngpid 2>/dev/null; wait $pid $ngpid 2>/dev/null; rm -rf "$tmp"; true' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-pw | $BIN user add bench --password-stdin --data "$tmp/data"
printf 'log_level = warn\nmax_concurrent_requests = 64\n' > "$tmp/conf"
base=http://127.0.0.1:$port
start_server() {
  $BIN serve --data "$tmp/data" --listen 127.0.0.1:$port --config "$tmp/conf" 2>>"$tmp/log" &
  pid=$!
  for _ in $(seq 100); do curl -sf $base/health >/dev/null && break; sleep 0.05; done
  sleep 0.5
}
# idle RSS twice: at the first start, which makes the WebPush VAPID key (OpenSSL), and
# at a restart, as a server runs from then on (the key's public half read from its
# .pub copy; libcurl and OpenSSL wait for the first push)
start_server
first_rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
kill $pid; wait $pid 2>/dev/null
start_server
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
auth="Basic $(printf 'bench:bench-pw' | base64)"
acct=$(curl -sf -H "Authorization: $auth" $base/jmap/session | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["primaryAccounts"]["urn:ietf:params:jmap:calendars"])')
cal=$(curl -sf -H "Authorization: $auth" -H 'Content-Type: application/json' \
  -d "{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:calendars\"],\"methodCalls\":[[\"Calendar/get\",{\"accountId\":\"$acct\"},\"0\"]]}" \
  $base/jmap/api/ | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["methodResponses"][0][1]["list"][0]["id"])')

using='["urn:ietf:params:jmap:core","urn:ietf:params:jmap:calendars"]'
# Bodies are built once in init(): per-request string building in wrk's Lua would
# measure wrk, not the server.
lua() { # name body-lua-expression (of i)
  cat > "$tmp/$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "$auth"
wrk.headers["Content-Type"] = "application/json"
local reqs, n = {}, 0
init = function(args)
  for i = 1, 1000 do
    reqs[i] = wrk.format(nil, "/jmap/api/", nil, $2)
  end
end
request = function()
  n = n % 1000 + 1
  return reqs[n]
end
LUA
}
lua echo "'{\"using\":$using,\"methodCalls\":[[\"Core/echo\",{\"hello\":true,\"n\":' .. i .. '},\"0\"]]}'"
lua get "'{\"using\":$using,\"methodCalls\":[[\"Calendar/get\",{\"accountId\":\"$acct\"},\"0\"]]}'"
lua set "'{\"using\":$using,\"methodCalls\":[[\"Calendar/set\",{\"accountId\":\"$acct\",\"update\":{\"$cal\":{\"name\":\"n' .. i .. '\"}}},\"0\"]]}'"
# nginx (bench/nginx.sh) on its own port, its workers as many as jmapd's threads would
# use: the cores
. bench/nginx.sh
if nginx_start "$tmp/ng" "$(nproc)" "location = /static { alias $tmp/ng/static; }"; then
  printf '12345678901234567890' > "$tmp/ng/static"
else
  echo "  warning: no nginx at $NGINX: its ceiling is left out (scripts/deps.sh bench)"
fi
cat > "$tmp/nginx.lua" <<LUA
local r
init = function(args) r = wrk.format("GET", "/static") end
request = function() return r end
LUA
cat > "$tmp/static.lua" <<LUA
local r
init = function(args) r = wrk.format("GET", "/health") end
request = function() return r end
LUA

# warm the credential cache and the caches of every worker
wrk -t2 -c$CONNS -d1s -s "$tmp/echo.lua" $base >/dev/null

us() { # wrk latency ("812.00us", "1.20ms", "1.01s") -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /ms$/) n *= 1000; else if (v ~ /[0-9]s$/) n *= 1000000; printf "%.0f", n }'
}
ticks() { # CPU clock ticks (user + system) of the processes given
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done
  echo $t
}
procs() { # the server's processes for a script: jmapd, or nginx's workers
  if [ "$1" = nginx ]; then pgrep -P $ngpid; else echo $pid; fi
}
run() { # script -> "rps p50us p99us cpu-us-per-request non2xx"
  local out url=$base t0 t1 n
  [ "$1" = nginx ] && url=http://127.0.0.1:$ngport
  t0=$(ticks $(procs $1))
  out=$(wrk -t2 -c$CONNS -d${DUR}s --latency -s "$tmp/$1.lua" $url)
  t1=$(ticks $(procs $1))
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(us "$(awk '$1=="50%" {print $2}' <<<"$out")")" \
       "$(us "$(awk '$1=="99%" {print $2}' <<<"$out")")" \
       "$(awk -v a=$t0 -v b=$t1 -v n=$n -v hz=$(getconf CLK_TCK) 'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}')" \
       "$(awk '/Non-2xx/ {print $4}' <<<"$out")"
}
# Rounds alternate the ceiling and each endpoint so drift on this shared machine
# hits both; the figure per endpoint is the median round.
declare -A rps p50 p99 cpu ratio last
kinds="static echo get set"
[ -n "$ngpid" ] && kinds="nginx $kinds"
for round in 1 2 3; do
  for t in $kinds; do
    read r a b u bad < <(run $t)
    [ -z "$bad" ] || echo "  warning: $bad non-2xx answers for $t"
    rps[$t]+="$r "; p50[$t]+="$a "; p99[$t]+="$b "; cpu[$t]+="$u "; last[$t]=$r
  done
  # echo against the ceiling of the same round (issue 21 §3: >= 0.60 of nginx)
  [ -n "$ngpid" ] && ratio[echo]+="$(awk -v a="${last[echo]}" -v b="${last[nginx]}" 'BEGIN {printf "%.3f", a / b}') "
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | sed -n 2p; }
cref=static
[ -n "$ngpid" ] && cref=nginx
c=$(median "${rps[$cref]}")
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); median of 3 rounds; ceiling: $( [ $cref = nginx ] && echo 'nginx static file' || echo 'GET /health')"
printf '%-14s %10s %10s %10s %8s %10s\n' endpoint "req/s" "p50 us" "p99 us" "ceiling" "CPU us/req"
for t in $kinds; do
  label=$(case $t in nginx) echo "nginx static";; static) echo "GET /health";; echo) echo Core/echo;; *) echo Calendar/$t;; esac)
  r=$(median "${rps[$t]}")
  printf '%-14s %10.0f %10s %10s %8s %10s\n' "$label" "$r" "$(median "${p50[$t]}" )" \
    "$(median "${p99[$t]}")" "$(awk -v a="$r" -v b="$c" 'BEGIN {printf "%.2f", a/b}')" "$(median "${cpu[$t]}")"
done
[ -n "$ngpid" ] && echo "Core/echo / nginx, per round: ${ratio[echo]}(target >= 0.60)"
[ -n "$ngpid" ] && echo "CPU per request, Core/echo / nginx: $(awk -v a="$(median "${cpu[echo]}")" -v b="$(median "${cpu[nginx]}")" 'BEGIN {printf "%.2f", a/b}')x"

# 1,000 idle EventSource connections
before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
ulimit -n 8192 2>/dev/null || true
/usr/bin/python3 - "$port" "$auth" <<'PY' &
import socket, sys, time
port, auth = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /jmap/eventsource/?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: {auth}\r\n\r\n".encode())
    socks.append(s)
for s in socks:
    s.settimeout(10)
    assert b"200" in s.recv(4096)
time.sleep(4)
PY
es=$!
sleep 3
after=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
wait $es || echo "  warning: eventsource client failed"
echo "idle RSS: $((idle_rss / 1024)) MB at a restart (target <= 15 MB); $((first_rss / 1024)) MB at the first start (makes the VAPID key)"
echo "1000 idle EventSource connections: +$(((after - before) / 1024)) MB RSS (target <= 25 MB)"
