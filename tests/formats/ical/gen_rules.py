"""Deterministic generator of recurrence test cases for the expansion oracle test.

Each case is an iCalendar VEVENT (every FREQ, BYxxx combinations, COUNT/UNTIL, DST-crossing
zones, floating times, EXDATE, RDATE and RECURRENCE-ID overrides) plus the expected
occurrences computed independently with python-dateutil's rrule and zoneinfo (PEP 495:
fold=0 resolves a time in a DST gap with the offset before the gap and a repeated time to
its first occurrence, which is what RFC 5545 §3.3.5 and jscalendarbis §1.4.5 require).
"""
import datetime as dt
import random
from zoneinfo import ZoneInfo

from dateutil import rrule as du

UTC = dt.timezone.utc
ZONES = [None, "Etc/UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney",
         "America/Los_Angeles", "Asia/Tokyo", "Europe/London"]
FREQS = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Start times close to DST transitions (US: 2nd Sunday March / 1st Sunday Nov, EU: last
# Sunday March/October, AU: 1st Sunday April/October), including the gap and repeat hours.
DST_STARTS = [dt.datetime(2021, 3, 14, 2, 30), dt.datetime(2021, 11, 7, 1, 30),
              dt.datetime(2022, 3, 27, 2, 30), dt.datetime(2022, 10, 30, 2, 30),
              dt.datetime(2023, 4, 2, 2, 30), dt.datetime(2023, 10, 1, 2, 30),
              dt.datetime(2024, 3, 10, 1, 59, 59), dt.datetime(2024, 10, 27, 1, 0)]


def fmt_local(d):
    return d.strftime("%Y%m%dT%H%M%S")


def to_utc(local, zone, floating_zone):
    z = zone or floating_zone
    if z in (None, "Etc/UTC"):
        return local.replace(tzinfo=UTC)
    return local.replace(tzinfo=ZoneInfo(z), fold=0).astimezone(UTC)


def random_rule(rnd):
    freq = rnd.choice(FREQS)
    parts = {"FREQ": freq}
    if rnd.random() < 0.4:
        parts["INTERVAL"] = str(rnd.choice([2, 3, 5]))
    by = []
    if freq in ("YEARLY",) and rnd.random() < 0.5:
        parts["BYMONTH"] = ",".join(str(m) for m in sorted(rnd.sample(range(1, 13), rnd.randint(1, 3))))
    if freq in ("YEARLY", "MONTHLY") and rnd.random() < 0.4:
        if rnd.random() < 0.5:
            parts["BYDAY"] = ",".join(rnd.sample(DAYS, rnd.randint(1, 3)))
        else:
            parts["BYDAY"] = rnd.choice(["1MO", "-1FR", "2TU,4TU", "-2SU", "3WE"])
    elif freq == "WEEKLY" and rnd.random() < 0.6:
        parts["BYDAY"] = ",".join(rnd.sample(DAYS, rnd.randint(1, 4)))
    elif freq in ("DAILY", "HOURLY") and rnd.random() < 0.3:
        parts["BYDAY"] = ",".join(rnd.sample(DAYS, rnd.randint(2, 5)))
    if freq in ("MONTHLY", "YEARLY") and "BYDAY" not in parts and rnd.random() < 0.5:
        parts["BYMONTHDAY"] = ",".join(str(x) for x in rnd.sample([1, 2, 13, 15, 28, 29, 30, 31, -1, -2], rnd.randint(1, 3)))
    if freq == "YEARLY" and not parts.keys() & {"BYMONTH", "BYDAY", "BYMONTHDAY"} and rnd.random() < 0.3:
        if rnd.random() < 0.5:
            parts["BYYEARDAY"] = ",".join(str(x) for x in rnd.sample([1, 100, 200, 365, -1, -100], rnd.randint(1, 3)))
        else:
            parts["BYWEEKNO"] = ",".join(str(x) for x in rnd.sample([1, 10, 20, 52, -1], rnd.randint(1, 2)))
            parts["BYDAY"] = rnd.choice(DAYS)
    if freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY") and rnd.random() < 0.25:
        parts["BYHOUR"] = ",".join(str(h) for h in sorted(rnd.sample([0, 6, 9, 12, 18, 23], rnd.randint(1, 2))))
        if rnd.random() < 0.5:
            parts["BYMINUTE"] = ",".join(str(m) for m in sorted(rnd.sample([0, 15, 30, 45], rnd.randint(1, 2))))
    if freq in ("HOURLY",) and rnd.random() < 0.3:
        parts["BYMINUTE"] = "0,30"
    if freq in ("MINUTELY",) and rnd.random() < 0.3:
        parts["BYSECOND"] = "0,30"
    if freq in ("MONTHLY", "YEARLY", "WEEKLY") and rnd.random() < 0.2 and ("BYDAY" in parts or "BYMONTHDAY" in parts):
        parts["BYSETPOS"] = rnd.choice(["1", "-1", "1,-1", "2"])
    if freq == "WEEKLY" and rnd.random() < 0.3:
        parts["WKST"] = rnd.choice(["SU", "MO", "WE"])
    small = freq in ("SECONDLY", "MINUTELY", "HOURLY")
    r = rnd.random()
    if r < 0.45 or small:
        parts["COUNT"] = str(rnd.randint(1, 40 if not small else 30))
    elif r < 0.8:
        parts["UNTIL"] = "*"  # filled in by the caller (needs the zone)
    return parts


def make_case(i, rnd):
    zone = rnd.choice(ZONES)
    floating_zone = rnd.choice(["America/New_York", "Europe/Berlin", "Asia/Tokyo"]) if zone is None else None
    if rnd.random() < 0.35:
        start = rnd.choice(DST_STARTS)
    else:
        start = dt.datetime(rnd.randint(2019, 2026), rnd.randint(1, 12), rnd.randint(1, 28),
                            rnd.randint(0, 23), rnd.choice([0, 15, 30, 45]), 0)
    parts = random_rule(rnd)
    until_local = None
    if parts.get("UNTIL") == "*":
        span = {"YEARLY": 3000, "MONTHLY": 900, "WEEKLY": 200, "DAILY": 60}.get(parts["FREQ"], 3)
        until_local = (start + dt.timedelta(days=rnd.randint(1, span))).replace(hour=23, minute=59, second=59)
        del parts["UNTIL"]
    rule_body = ";".join(f"{k}={v}" for k, v in parts.items())
    # Synchronise DTSTART with the rule (RFC 5545 §3.8.5.3: otherwise undefined).
    probe = du.rrulestr(rule_body, dtstart=start)
    first = probe.after(start, inc=True)
    if first is None:
        return None
    start = first
    if until_local is not None and until_local < start:
        until_local = start + dt.timedelta(days=1)
    # Where RFC 5545 leaves room and dateutil reads it differently, JSCalendar decides
    # (draft-ietf-calext-jscalendarbis-08 §4.3.3.1); the oracle gets the rule spelled out.
    pinned = None
    oracle_body = rule_body
    if parts["FREQ"] == "YEARLY" and "BYMONTHDAY" in parts and not parts.keys() & {"BYMONTH", "BYWEEKNO", "BYYEARDAY"}:
        # extra rule 3: yearly with byMonthDay and no byMonth gets byMonth = start month
        oracle_body += f";BYMONTH={start.month}"
        pinned = "jscalendarbis-08 §4.3.3.1 rule 3 (implicit byMonth)"
    oracle_rule = oracle_body + (f";UNTIL={fmt_local(until_local)}" if until_local else "")
    rs = du.rruleset()
    rs.rrule(du.rrulestr(oracle_rule, dtstart=start))
    occ = list(rs.between(start - dt.timedelta(seconds=1), start + dt.timedelta(days=4000), inc=True)[:400])
    if not occ or occ[0] != start:
        return None
    if until_local:
        if zone:
            u = to_utc(until_local, zone, None)
            ical_rule = rule_body + ";UNTIL=" + u.strftime("%Y%m%dT%H%M%SZ")
        else:
            ical_rule = rule_body + ";UNTIL=" + fmt_local(until_local)
    else:
        ical_rule = rule_body
    # Overrides: EXDATEs, RDATEs and moved instances.
    exdates, rdates, moved = [], [], {}
    if len(occ) > 3 and rnd.random() < 0.3:
        exdates = rnd.sample(occ[1:], min(2, len(occ) - 1))
    if rnd.random() < 0.2:
        rdates = [start + dt.timedelta(days=rnd.randint(1, 40), hours=rnd.randint(1, 5))]
        rdates = [r for r in rdates if r not in occ]
    if len(occ) > 3 and rnd.random() < 0.25:
        rid = rnd.choice([o for o in occ[1:] if o not in exdates])
        moved[rid] = rid + dt.timedelta(hours=rnd.choice([-3, 2, 26]))
    fz = floating_zone
    expected = []
    for o in sorted(set(occ + rdates)):
        if o in exdates:
            continue
        when = moved.get(o, o)
        expected.append((o.strftime("%Y-%m-%dT%H:%M:%S"), to_utc(when, zone, fz)))
    expected.sort(key=lambda e: (e[1], e[0]))
    # Window: sometimes from the start, sometimes a slice in the middle.
    if rnd.random() < 0.5 or len(expected) < 5:
        win_from = to_utc(start, zone, fz) - dt.timedelta(days=1)
        win_to = expected[-1][1] + dt.timedelta(seconds=1)
    else:
        a = rnd.randint(1, len(expected) - 3)
        win_from = expected[a][1]
        win_to = expected[a + 2][1] + dt.timedelta(seconds=1)
    expected = [e for e in expected if win_from <= e[1] < win_to]

    def dtprop(name, local):
        if zone is None:
            return f"{name}:{fmt_local(local)}"
        if zone == "Etc/UTC":
            return f"{name}:{fmt_local(local)}Z"
        return f"{name};TZID={zone}:{fmt_local(local)}"

    uid = f"oracle-{i}@jmapd.test"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//jmapd//oracle//EN", "BEGIN:VEVENT",
             f"UID:{uid}", "DTSTAMP:20240101T000000Z", dtprop("DTSTART", start), f"RRULE:{ical_rule}",
             f"SUMMARY:case {i}"]
    for e in exdates:
        lines.append(dtprop("EXDATE", e))
    for r in rdates:
        lines.append(dtprop("RDATE", r))
    lines.append("END:VEVENT")
    for rid, new in moved.items():
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240101T000000Z", dtprop("RECURRENCE-ID", rid),
                  dtprop("DTSTART", new), f"SUMMARY:moved {i}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return {
        "id": i, "ics": "\r\n".join(lines) + "\r\n", "zone": zone, "floating_zone": fz, "pinned": pinned,
        "rule": ical_rule, "from": win_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": win_to.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expected": [(rid, u.strftime("%Y-%m-%dT%H:%M:%SZ")) for rid, u in expected],
    }


def cases(n=600, seed=3):
    rnd = random.Random(seed)
    out, i = [], 0
    while len(out) < n:
        c = make_case(i, rnd)
        i += 1
        if c:
            out.append(c)
    return out


if __name__ == "__main__":
    cs = cases()
    freqs = {}
    for c in cs:
        f = c["rule"].split(";")[0]
        freqs[f] = freqs.get(f, 0) + 1
    print(len(cs), freqs)
