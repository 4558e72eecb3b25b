"""Expansions through the server (CalendarEvent/query with expandRecurrences)
checked against an independent oracle, python3-dateutil, with the JSCalendar rule
that the start is always the first occurrence (jscalendarbis-08 §4.3.3.1)."""
import datetime
import random
from zoneinfo import ZoneInfo

from dateutil import rrule

DAYS = ["mo", "tu", "we", "th", "fr", "sa", "su"]


def make_rules(n=60, seed=5):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        freq = rnd.choice(["daily", "weekly", "monthly", "yearly"])
        js = {"@type": "RecurrenceRule", "frequency": freq}
        du = {"freq": {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY,
                       "yearly": rrule.YEARLY}[freq]}
        if rnd.random() < 0.5:
            js["interval"] = du["interval"] = rnd.randrange(2, 4)
        if freq == "weekly" and rnd.random() < 0.7:
            days = sorted(rnd.sample(range(7), rnd.randrange(1, 4)))
            js["byDay"] = [{"@type": "NDay", "day": DAYS[d]} for d in days]
            du["byweekday"] = days
        if freq == "monthly" and rnd.random() < 0.5:
            md = sorted(rnd.sample(range(1, 29), 2))
            js["byMonthDay"] = md
            du["bymonthday"] = md
        if freq == "yearly" and rnd.random() < 0.5:
            months = sorted(rnd.sample(range(1, 13), 2))
            js["byMonth"] = [str(m) for m in months]
            du["bymonth"] = months
        if rnd.random() < 0.5:
            js["count"] = du["count"] = rnd.randrange(3, 40)
        start = datetime.datetime(2025, rnd.randrange(1, 13), rnd.randrange(1, 29), 10, 30)
        out.append((start, js, du, rnd.choice(["Europe/Berlin", "America/New_York", "Etc/UTC"])))
    return out


def test_expansion_matches_dateutil(fresh_server):
    s = fresh_server
    acct = s.account()
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    rules = make_rules()
    create = {f"r{i}": {"calendarIds": {cal: True}, "title": f"rule {i}",
                        "start": st.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": tz,
                        "duration": "PT1H", "recurrenceRule": js}
              for i, (st, js, du, tz) in enumerate(rules)}
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
    assert out["notCreated"] is None, out["notCreated"]
    ids = {out["created"][f"r{i}"]["id"]: i for i in range(len(rules))}
    win = ("2025-01-01T00:00:00", "2026-02-01T00:00:00")
    q = s.call("CalendarEvent/query", {"accountId": acct, "expandRecurrences": True,
                                       "filter": {"after": win[0], "before": win[1]}})[1]
    got = {}
    for i in range(0, len(q["ids"]), 400):
        for e in s.call("CalendarEvent/get", {"accountId": acct, "ids": q["ids"][i:i + 400],
                                              "properties": ["utcStart", "baseEventId"]})[1]["list"]:
            got.setdefault(ids[e["baseEventId"]], set()).add(e["utcStart"])
    lo = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    hi = datetime.datetime(2026, 2, 1, tzinfo=datetime.timezone.utc)
    disagreements = []
    for i, (st, js, du, tz) in enumerate(rules):
        z = ZoneInfo(tz)
        want = set()
        # jscalendarbis-08 §4.3.3.1 rule 1: the start is always the first occurrence
        # and counts against `count`, even where the rule would not produce it
        count = du.get("count")
        args = {k: v for k, v in du.items() if k != "count"}
        local_all = sorted({st, *rrule.rrule(dtstart=st, until=datetime.datetime(2027, 3, 1),
                                             **args)})
        if count:
            local_all = local_all[:count]
        for local in local_all:
            u = local.replace(tzinfo=z).astimezone(datetime.timezone.utc)
            if lo - datetime.timedelta(hours=1) < u < hi:
                want.add(u.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if got.get(i, set()) != want:
            disagreements.append((i, js, sorted(got.get(i, set()) ^ want)[:4]))
    assert disagreements == []


