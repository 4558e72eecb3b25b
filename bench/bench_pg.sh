#!/usr/bin/env bash
# PostgreSQL against SQLite (issue 15): W1 create, W2 get, W3 one-month expanded query
# and W5 /changes on build/jmapd with each store in the same run (a private
# PostgreSQL 15 is started and stopped by bench/pg/bench_pg.py), the ratios, and W2 on
# one front end against two on the same database. EVENTS=N for a smaller run.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/pg/bench_pg.py
