"""Baseline for bench_ical.sh, on the same file and window as jmapd:
conversion = python3-icalendar parsing and re-serialising (from_ical + to_ical);
expansion = parsing plus recurring_ical_events.between over the window.
Prints: convert_seconds events expand_seconds occurrences"""
import datetime as dt
import os
import sys
import time

import icalendar
import recurring_ical_events


def cpu():
    """CPU seconds (user+sys) of this process, like the figures taken for jmapd."""
    t = os.times()
    return t.user + t.system


path, frm, to = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
t0 = cpu()
cal = icalendar.Calendar.from_ical(data)
t1 = cpu()
events = cal.walk("VEVENT")
cal.to_ical()
t2 = cpu()
f = dt.datetime.fromisoformat(frm.replace("Z", "+00:00"))
t = dt.datetime.fromisoformat(to.replace("Z", "+00:00"))
t3 = cpu()
occ = recurring_ical_events.of(cal).between(f, t)
t4 = cpu()
parse = t1 - t0
print(f"{t2 - t0:.4f} {len(events)} {parse + (t4 - t3):.4f} {len(occ)}")
