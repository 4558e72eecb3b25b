#!/usr/bin/env bash
# `make run`: serve on 127.0.0.1:8080 with data in ./data, creating a demo user
# the first time (its password is kept in data/demo-password). The data directory is
# 0700, jmapd.db and data/demo-password 0600.
set -euo pipefail
cd "$(dirname "$0")/.."
# The data directory holds every password hash: jmapd makes it 0700 and jmapd.db 0600
# itself; the umask covers what this script writes there (demo-password).
umask 077
bin=build/jmapd
data=${JMAPD_DATA:-./data}
listen=${JMAPD_LISTEN:-127.0.0.1:8080}
if [ -z "$("$bin" user list --data "$data")" ]; then
  pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 16)
  printf '%s\n' "$pw" | "$bin" user add demo --password-stdin --data "$data"
  printf '%s\n' "$pw" > "$data/demo-password"
  chmod 600 "$data/demo-password"
fi
user=$("$bin" user list --data "$data" | head -n 1)
pw=$(cat "$data/demo-password" 2>/dev/null || echo "(set with: jmapd user passwd $user)")
cat <<MSG
jmapd is starting.
  session:  http://$listen/jmap/session   (also /.well-known/jmap)
  user:     $user
  password: $pw
  try:      curl -u $user:$pw http://$listen/jmap/session
Stop with Ctrl-C.
MSG
exec "$bin" serve --data "$data" --listen "$listen"
