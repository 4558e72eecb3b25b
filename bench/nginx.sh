# nginx.sh — sourced by the benchmarks that measure against nginx serving static files
# (bench_core.sh: the HTTP ceiling; bench_dav.sh: the client's floor for an answer's size).
#   nginx_start DIR WORKERS LOCATION  starts Debian's nginx (scripts/deps.sh bench; NGINX
#       names another) on a free port of 127.0.0.1 with LOCATION as its server's location
#       block, its configuration and logs in DIR; sets ngport and ngpid. Fails (ngpid
#       empty) when there is no nginx.
nginx_start() {
  local dir=$1 workers=$2 location=$3
  NGINX=${NGINX:-/usr/sbin/nginx}
  ngpid=""
  [ -x "$NGINX" ] || return 1
  ngport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # nginx's workers run as another user when started as root: the folders must be readable
  mkdir -p "$dir" && chmod 755 "$(dirname "$dir")" "$dir"
  cat > "$dir/nginx.conf" <<NG
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/t1; proxy_temp_path $dir/t2; fastcgi_temp_path $dir/t3;
  uwsgi_temp_path $dir/t4; scgi_temp_path $dir/t5;
  server { listen 127.0.0.1:$ngport; $location }
}
NG
  "$NGINX" -c "$dir/nginx.conf" -e "$dir/error.log" &
  ngpid=$!
  # up when it answers at all (a 404 too)
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$ngport/ && break; sleep 0.05; done
}
