# Sourced by the benchmarks that compare with Cyrus IMAP 3.6 (bench_dav.sh, bench_scale.sh):
# starts a Cyrus peer of their own with ../shared/peers/cyrus/setup.sh (which installs its
# packages; as root) in a data dir and on free ports of its own — the shared one at
# /var/lib/cyrus-peer is wiped by whoever starts it next — and stops it by its pid file.
#
#   cyrus_start DIR [PREFIX...]  starts (or, with CYRUS_PEER_KEEP=1, restarts on the same
#                                ports and data) the peer in DIR, its setup.sh run under
#                                PREFIX (e.g. nice -n 10: the master and every process it
#                                forks inherit it); returns 1 and says why when it cannot
#   cyrus_stop                   stops it
# The peer's URLs are then in $CYRUS_PEER_DIR/peer.env (bench/cyrus_peer.py reads it).

# ../shared beside the main checkout (also from a worktree of it)
cyrus_peer=$(cd "$(git rev-parse --git-common-dir 2>/dev/null || echo .git)/../.." && pwd)/shared/peers/cyrus
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cyrus_start() {
  local dir=$1
  shift
  if [ ! -x "$cyrus_peer/setup.sh" ] || [ "$(id -u)" != 0 ]; then
    echo "no Cyrus peer: $cyrus_peer/setup.sh needs root"
    return 1
  fi
  # the data dir is owned by the cyrus user, which must be able to reach it
  chmod 755 "$(dirname "$dir")"
  export CYRUS_PEER_DIR=$dir
  cyrus_started=$dir
  CYRUS_PEER_HTTP_PORT=${CYRUS_PEER_HTTP_PORT:-$(free_port)}
  CYRUS_PEER_IMAP_PORT=${CYRUS_PEER_IMAP_PORT:-$(free_port)}
  export CYRUS_PEER_HTTP_PORT CYRUS_PEER_IMAP_PORT
  echo "starting a Cyrus peer (../shared/peers/cyrus/setup.sh, port $CYRUS_PEER_HTTP_PORT)..."
  if ! "$@" "$cyrus_peer/setup.sh" >"$dir.log" 2>&1; then
    echo "Cyrus peer failed to start: see $dir.log"
    tail -5 "$dir.log"
    return 1
  fi
}

cyrus_stop() {
  [ -z "${cyrus_started:-}" ] || CYRUS_PEER_DIR=$cyrus_started "$cyrus_peer/stop.sh" >/dev/null 2>&1 || true
  cyrus_started=
}
