"""The calendar workload of the CalendarEvent benchmark: 10,000 events over two
years, 20% of them recurring (COUNT, UNTIL or unbounded) with overrides, in a few
time zones; deterministic (seeded) so every run and every server gets the same."""
import random

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Etc/UTC"]
WORDS = ("planning review sync lunch dentist gym standup retro offsite party call "
         "interview demo workshop yoga dinner flight train meeting budget launch").split()


def events(n=10000, seed=7):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        day = rnd.randrange(0, 730)
        y, m, d = date_of(day)
        hh = rnd.choice([8, 9, 10, 11, 13, 14, 15, 16, 18, 19])
        mm = rnd.choice([0, 15, 30, 45])
        start = f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:00"
        ev = {"uid": f"bench-{seed}-{i}@example.com",
              "title": " ".join(rnd.sample(WORDS, 2)).capitalize() + f" #{i}",
              "description": " ".join(rnd.sample(WORDS, 5)),
              "start": start, "timeZone": rnd.choice(ZONES),
              "duration": rnd.choice(["PT30M", "PT1H", "PT1H30M", "PT2H"])}
        if rnd.random() < 0.2:
            # the mix of a working calendar: mostly weekly, mostly with an end
            freq = rnd.choices(["daily", "weekly", "monthly", "yearly"], [1, 6, 2, 1])[0]
            rule = {"@type": "RecurrenceRule", "frequency": freq}
            kind = rnd.random()
            if kind < 0.55:
                rule["count"] = rnd.randrange(3, 30)
            elif kind < 0.85:
                uy, um, ud = date_of(min(day + rnd.randrange(14, 180), 729))
                rule["until"] = f"{uy:04d}-{um:02d}-{ud:02d}T23:59:59"
            ev["recurrenceRule"] = rule
            step = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}[freq]
            ov = {}
            for k in range(rnd.randrange(1, 4)):
                oy, om, od = date_of(min(day + step * (k + 1), 729) if freq != "monthly" else day)
                if freq == "monthly":
                    oy, om = (y + (m + k) // 12, (m + k) % 12 + 1)
                    od = min(d, 28)
                rid = f"{oy:04d}-{om:02d}-{od:02d}T{hh:02d}:{mm:02d}:00"
                ov[rid] = ({"excluded": True} if rnd.random() < 0.3
                           else {"title": ev["title"] + " (moved)"})
            ev["recurrenceOverrides"] = ov
        out.append(ev)
    return out


def date_of(day):
    """Day number from 2025-01-01 to (y, m, d)."""
    import datetime
    t = datetime.date(2025, 1, 1) + datetime.timedelta(days=day)
    return t.year, t.month, t.day


def month_windows(k=20, seed=11):
    rnd = random.Random(seed)
    out = []
    for _ in range(k):
        y, m = rnd.choice([2025, 2026]), rnd.randrange(1, 13)
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((f"{y:04d}-{m:02d}-01T00:00:00", f"{ny:04d}-{nm:02d}-01T00:00:00"))
    return out
