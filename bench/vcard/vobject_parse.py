#!/usr/bin/python3
"""Baseline for bench_vcard.sh: parses FILE with Debian's python3-vobject and
prints "<cards> <wall seconds> <CPU seconds>" (parse only, file already read)."""
import sys
import time

import vobject

data = open(sys.argv[1], encoding="utf-8").read()
t0, c0 = time.perf_counter(), time.process_time()
count = sum(1 for _ in vobject.readComponents(data))
print(count, time.perf_counter() - t0, time.process_time() - c0)
