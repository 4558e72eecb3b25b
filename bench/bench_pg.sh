#!/usr/bin/env bash
# PostgreSQL against SQLite (issue 15): W1 create, W2 get, W3 one-month expanded query
# and W5 /changes on build/jmapd with each store in the same run (a private
# PostgreSQL 15 is started and stopped by bench/pg/bench_pg.py), the ratios, and W2 on
# one front end against two on the same database. EVENTS=N for a smaller run. Then the
# waited round trips per request (bench/pg/round_trips.py: counted, not timed), and the
# CPU per W2/W3/W5 request of jmapd and of PostgreSQL (bench/pg/cost.py: whatever the
# load). BEFORE=<binary> runs the PostgreSQL halves on it too, in the same rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
/usr/bin/python3 bench/pg/bench_pg.py || rc=$?
EVENTS=50 /usr/bin/python3 bench/pg/round_trips.py
N=100 /usr/bin/python3 bench/pg/cost.py ${BEFORE:-} "${BIN:-build/jmapd}"
exit $rc
