"""Recurrence hardening benchmark (issue 19 §1 and §4), against a running jmapd:

* a rule that never matches ({"frequency":"minutely","byMonth":["2"],"byMonthDay":[30]})
  created with CalendarEvent/set and queried with expandRecurrences: bound 2 s each;
* events with n and 2n recurrenceOverrides created: bound 0.5 s for 4,000;
* CalendarEvent/parse of n and 2n RDATE lines: bound 1 s for 100,000.

Prints each figure and the ratio of time(2n) / time(n): about 2 for linear work, about
4 for quadratic. Exits 1 when a bound is missed."""
import json
import sys
import time

import requests

CORE = "urn:ietf:params:jmap:core"
CAL = "urn:ietf:params:jmap:calendars"
PARSE = "urn:ietf:params:jmap:calendars:parse"

base, user, pw = sys.argv[1:4]
http = requests.Session()
http.auth = (user, pw)
session = http.get(f"{base}/.well-known/jmap").json()
acct = session["primaryAccounts"][CAL]
api = session["apiUrl"]
if api.startswith("/"):
    api = base + api
failed = []


def call(name, args, using=(CORE, CAL)):
    body = json.dumps({"using": list(using), "methodCalls": [[name, args, "0"]]})
    t = time.perf_counter()
    r = http.post(api, data=body, headers={"Content-Type": "application/json"})
    r.raise_for_status()
    dt = time.perf_counter() - t
    return dt, r.json()["methodResponses"][0]


def bound(label, secs, limit):
    ok = secs <= limit
    print(f"  {label}: {secs:.3f} s (bound {limit} s){'' if ok else '  !!! over the bound'}")
    if not ok:
        failed.append(label)


_, (_, cals, _) = call("Calendar/get", {"accountId": acct})
cal = cals["list"][0]["id"]

print("never-matching rule (issue 19 §1)")
rule = {"@type": "RecurrenceRule", "frequency": "minutely", "byMonth": ["2"], "byMonthDay": [30]}
ev = {"calendarIds": {cal: True}, "title": "never", "start": "2024-01-01T10:00:00",
      "timeZone": "Europe/Berlin", "duration": "PT1M", "recurrenceRule": rule}
dt, (_, out, _) = call("CalendarEvent/set", {"accountId": acct, "create": {"a": ev}})
bound("CalendarEvent/set", dt, 2.0)
dt, (name, out, _) = call("CalendarEvent/query", {
    "accountId": acct, "expandRecurrences": True,
    "filter": {"after": "2024-01-01T00:00:00", "before": "2025-01-01T00:00:00"}})
bound(f"CalendarEvent/query expanded ({name}, {len(out.get('ids', []))} ids)", dt, 2.0)
ev["recurrenceRule"] = dict(rule, count=5)
dt, _ = call("CalendarEvent/set", {"accountId": acct, "create": {"b": ev}})
bound("CalendarEvent/set with count 5", dt, 2.0)


def overrides(n):
    ov = {}
    for i in range(n):
        day = 1704103200 + i * 86400  # 2024-01-01T10:00:00 + i days
        key = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(day))
        ov[key] = {"title": f"occurrence {i}"} if i % 3 else {"excluded": True}
    return {"calendarIds": {cal: True}, "title": "many overrides",
            "start": "2024-01-01T10:00:00", "timeZone": "Europe/Berlin", "duration": "PT1H",
            "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily"},
            "recurrenceOverrides": ov}


def timed_create(n):
    body = overrides(n)
    best = None
    for _ in range(3):
        dt, (_, out, _) = call("CalendarEvent/set", {"accountId": acct, "create": {"o": body}})
        assert out.get("created"), str(out.get("notCreated"))[:300]
        best = dt if best is None else min(best, dt)
    return best, len(json.dumps(body))


print("recurrence overrides created (issue 19 §4)")
prev = None
for n in (1000, 2000, 4000):
    dt, size = timed_create(n)
    ratio = f", x{dt / prev:.2f} for twice as many" if prev else ""
    print(f"  {n} overrides ({size // 1000} kB): {dt:.3f} s{ratio}")
    prev = dt
bound("4,000 overrides created", prev, 0.5)


def rdates(n):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", "BEGIN:VEVENT",
             "UID:rdates@bench", "DTSTAMP:20240101T000000Z", "DTSTART:20240101T100000Z",
             "DURATION:PT1H", "SUMMARY:many RDATEs"]
    t0 = 1704103200
    for i in range(n):
        lines.append("RDATE:" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t0 + (i + 1) * 3600)))
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


print("CalendarEvent/parse of RDATE lines (issue 19 §4)")
prev = None
for n in (12500, 25000, 50000, 100000):
    blob = http.post(f"{base}/jmap/upload/{acct}/", data=rdates(n),
                     headers={"Content-Type": "text/calendar"}).json()["blobId"]
    best = None
    for _ in range(3):
        dt, (name, out, _) = call("CalendarEvent/parse", {"accountId": acct, "blobIds": [blob]},
                                  using=(CORE, CAL, PARSE))
        assert name == "CalendarEvent/parse" and out.get("parsed"), str(out)[:300]
        best = dt if best is None else min(best, dt)
    ratio = f", x{best / prev:.2f} for twice as many" if prev else ""
    print(f"  {n} RDATEs: {best:.3f} s{ratio}")
    prev = best
bound("100,000 RDATEs parsed", prev, 1.0)
sys.exit(1 if failed else 0)
