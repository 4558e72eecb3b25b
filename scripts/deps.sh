#!/usr/bin/env bash
# Install the Debian 12 packages jmapd needs to build, run, test and benchmark.
# Idempotent: only packages that are missing are installed. Run as root.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh test     + test tools (cmocka, clang fuzzer runtime, pytest, oracles)
#   scripts/deps.sh bench    + load tools (wrk) and comparison libraries
set -euo pipefail

build=(build-essential pkg-config make tzdata
       libmicrohttpd-dev libjansson-dev libical-dev libsqlite3-dev
       libargon2-dev libssl-dev libicu-dev libxml2-dev libcurl4-openssl-dev libpq-dev)
test=(clang libclang-rt-14-dev libcmocka-dev openssl
      python3-pytest python3-requests python3-dateutil
      python3-icalendar python3-recurring-ical-events python3-vobject
      vdirsyncer khal todoman python3-caldav python3-aiosmtpd postgresql-15
      python3-cryptography)
# valgrind, bc: bench/metadata/callgrind_get.sh (instructions, issue 18); strace:
# bench/pg/round_trips.py (issue 15); nginx, nodejs (+ npm where nodejs does not bring it):
# bench_core.sh's static ceiling and bench_convert.sh's ical.js (issue 21)
bench=(wrk lua5.1 strace valgrind bc nginx nodejs python3-icalendar python3-recurring-ical-events
       python3-vobject)

want=("${build[@]}")
for extra in "$@"; do
  case "$extra" in
    test) want+=("${test[@]}") ;;
    bench) want+=("${test[@]}" "${bench[@]}")
           command -v npm >/dev/null || want+=(npm) ;;
    *) echo "deps.sh: unknown set '$extra'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]} (run as root to install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
