#!/usr/bin/env bash
# `make bench`: runs every bench/bench_*.sh in turn. Each prints its own figures,
# as ratios against a baseline measured in the same run.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for b in bench/bench_*.sh; do
  [ -x "$b" ] || continue
  echo "=== $b"
  "$b" || { echo "!!! $b failed"; status=1; }
done
exit $status
