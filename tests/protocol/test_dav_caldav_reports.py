"""CalDAV REPORT details of RFC 4791: time-range on VTODO (§9.9 table), limit-recurrence-set
(§9.6.6), expand with overrides and exceptions (§9.6.5), min-date-time/max-date-time
(§5.2.6, §5.2.7) as properties and as 403 preconditions on PUT and in reports; listings of
one of several calendars."""
import uuid

from davutil import (C, D, NSDECL, dav, error_condition, homes, ics, multistatus, new_calendar,
                     propfind, put, unfold)
from test_dav_tasks import new_tasklist


def todo(uid, *lines):
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VTODO",
                        f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"SUMMARY:{uid}", *lines,
                        "END:VTODO", "END:VCALENDAR", ""])


def todo_query(path, start, end):
    body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
            '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO">'
            f'<c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter>'
            '</c:filter></c:calendar-query>')
    return body


def test_rfc4791_9_9_time_range_on_vtodo(server):
    path = new_tasklist(server, "Chores")
    tasks = {
        "start-due": ["DTSTART:20260105T090000Z", "DUE:20260107T090000Z"],
        # (DTSTART with DURATION: the conversion refuses a VTODO's DURATION so far, as
        # JSCalendar Tasks have no duration)
        "start-late": ["DTSTART:20260205T090000Z", "DUE:20260305T090000Z"],
        "start-only": ["DTSTART:20260210T090000Z"],
        "due-only": ["DUE:20260301T090000Z"],
        "completed-created": ["CREATED:20251201T000000Z", "COMPLETED:20260215T100000Z",
                              "STATUS:COMPLETED"],
        "completed-early": ["CREATED:20260105T000000Z", "COMPLETED:20260106T100000Z",
                            "STATUS:COMPLETED"],
        "created-only": ["CREATED:20260120T000000Z"],
        "nothing": [],  # the server adds CREATED (the time of the PUT)
    }
    for name, lines in tasks.items():
        r = put(server, path + name + ".ics", todo(name, *lines))
        assert r.status_code == 201, server.read_log()[-1500:]

    def found(start, end):
        ms = multistatus(dav(server, "REPORT", path, todo_query(path, start, end), depth=1))
        return {h.rsplit("/", 1)[1][:-4] for h in ms}

    # (a task without CREATED gets one: the rows without it cannot be reached by a PUT)
    # January: the Jan 5-7 task, the one completed Jan 6, the one created Dec 1 and completed
    # Feb 15 (it spans January), the one created Jan 20
    assert found("20260101T000000Z", "20260201T000000Z") - {"nothing"} == {
        "start-due", "completed-early", "completed-created", "created-only"}
    # February 1-12: a task from Feb 5 to Mar 5, DTSTART alone on Feb 10, created before
    assert found("20260201T000000Z", "20260212T000000Z") - {"nothing"} == {
        "start-late", "start-only", "completed-created", "created-only"}
    # DTSTART alone only matches a range that contains it: (start <= DTSTART) AND (end > DTSTART)
    assert "start-only" not in found("20260211T000000Z", "20260212T000000Z")
    # DUE alone: (start < DUE) and (end >= DUE)
    assert "due-only" in found("20260301T000000Z", "20260302T000000Z")
    assert "due-only" not in found("20260302T000000Z", "20260401T000000Z")
    # before anything was created: none; CREATED alone: (end > CREATED)
    assert found("20250101T000000Z", "20250102T000000Z") == set()
    created = [line for line in unfold(server.http().get(server.base + path + "nothing.ics").text)
               .splitlines() if line.startswith("CREATED:")][0][8:]
    assert "nothing" in found("20200101T000000Z", "29990101T000000Z")
    assert "nothing" not in found("20200101T000000Z", created)



def test_rfc4791_9_9_recurring_vtodo_matches_on_every_instance(server):
    """§9.9: the time-range test applies to every instance of a recurring VTODO, each with
    its own DTSTART and DUE (RFC 5545 §3.8.5.3), not only to the first."""
    path = new_tasklist(server, "Recurring chores")
    tasks = {
        # weekly Monday 09:00 - Tuesday 09:00, ten times from 2026-01-05
        "weekly": ["DTSTART:20260105T090000Z", "DUE:20260106T090000Z",
                   "RRULE:FREQ=WEEKLY;COUNT=10"],
        # DUE alone, monthly on the 1st at noon, three times from February
        "monthly-due": ["DUE:20260201T120000Z", "RRULE:FREQ=MONTHLY;COUNT=3"],
        # DTSTART alone, daily five times from 2026-01-05
        "daily-start": ["DTSTART:20260105T080000Z", "RRULE:FREQ=DAILY;COUNT=5"],
    }
    for name, lines in tasks.items():
        r = put(server, path + name + ".ics", todo(name, *lines))
        assert r.status_code == 201, server.read_log()[-1500:]

    def found(start, end):
        ms = multistatus(dav(server, "REPORT", path, todo_query(path, start, end), depth=1))
        return {h.rsplit("/", 1)[1][:-4] for h in ms}

    # the third weekly instance (Jan 19-20) alone: a Wednesday-to-Sunday range finds nothing,
    # the Tuesday morning of its DUE finds it (start < DUE and end >= DUE)
    assert "weekly" not in found("20260121T000000Z", "20260125T000000Z")
    assert "weekly" in found("20260120T000000Z", "20260120T100000Z")
    # the last instance (March 9-10) and after the series' end
    assert "weekly" in found("20260309T100000Z", "20260309T110000Z")
    assert "weekly" not in found("20260311T000000Z", "20260401T000000Z")
    # DUE alone: the April 1 instance, not May (COUNT=3 ends with April)
    assert "monthly-due" in found("20260401T000000Z", "20260402T000000Z")
    assert "monthly-due" not in found("20260501T000000Z", "20260502T000000Z")
    # DTSTART alone: the fourth day, not the sixth
    assert "daily-start" in found("20260108T000000Z", "20260109T000000Z")
    assert "daily-start" not in found("20260110T000000Z", "20260111T000000Z")


def recurring_with_overrides(uid):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        "DTSTART:20260110T090000Z", "DURATION:PT1H", "SUMMARY:Daily",
        "RRULE:FREQ=DAILY;COUNT=15", "EXDATE:20260111T090000Z", "END:VEVENT",
        # moved within the day
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        "RECURRENCE-ID:20260112T090000Z", "DTSTART:20260112T150000Z", "DURATION:PT1H",
        "SUMMARY:Moved", "END:VEVENT",
        # moved a week later, out of the first window
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        "RECURRENCE-ID:20260113T090000Z", "DTSTART:20260127T090000Z", "DURATION:PT1H",
        "SUMMARY:Later", "END:VEVENT",
        "END:VCALENDAR", ""])


def data_query(start, end, data):
    return (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/><c:calendar-data>{data}'
            '</c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR">'
            f'<c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/>'
            '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>')


def test_rfc4791_9_6_5_expand_with_overrides_and_exceptions(server):
    path = new_calendar(server)
    assert put(server, path + "d.ics", recurring_with_overrides(str(uuid.uuid4()))).status_code == 201
    q = data_query("20260110T000000Z", "20260115T000000Z",
                   '<c:expand start="20260110T000000Z" end="20260115T000000Z"/>')
    ms = multistatus(dav(server, "REPORT", path, q, depth=1))
    data = unfold(ms[path + "d.ics"]["props"][C + "calendar-data"].text)
    assert "RRULE" not in data and "EXDATE" not in data
    rids = sorted(line for line in data.splitlines() if line.startswith("RECURRENCE-ID"))
    # Jan 11 is excluded, Jan 13 was moved out of the window
    assert rids == ["RECURRENCE-ID:20260110T090000Z", "RECURRENCE-ID:20260112T090000Z",
                    "RECURRENCE-ID:20260114T090000Z"]
    moved = data.split("RECURRENCE-ID:20260112T090000Z")[0].rsplit("BEGIN:VEVENT", 1)[1] + \
        data.split("RECURRENCE-ID:20260112T090000Z")[1].split("END:VEVENT")[0]
    assert "DTSTART:20260112T150000Z" in moved and "SUMMARY:Moved" in moved
    # the window the moved instance went to finds it there, with its original RECURRENCE-ID
    q = data_query("20260127T000000Z", "20260128T000000Z",
                   '<c:expand start="20260127T000000Z" end="20260128T000000Z"/>')
    data = unfold(multistatus(dav(server, "REPORT", path, q, depth=1))[path + "d.ics"]["props"]
                  [C + "calendar-data"].text)
    assert "RECURRENCE-ID:20260113T090000Z" in data and "DTSTART:20260127T090000Z" in data
    assert data.count("BEGIN:VEVENT") == 1


def test_rfc4791_9_6_5_expand_puts_a_single_event_in_utc_without_vtimezone(server):
    """§9.6.5: with expand, "date and local time with reference to time zone information
    MUST be converted into date with UTC time" and no VTIMEZONE is returned: a
    non-recurring event in a time zone too, not only the instances of a recurring one."""
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    body = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", f"UID:{uid}",
        "DTSTAMP:20260101T000000Z", "DTSTART;TZID=America/New_York:20260612T110000",
        "DTEND;TZID=America/New_York:20260612T120000", "SUMMARY:Single in New York",
        "END:VEVENT", "END:VCALENDAR", ""])
    assert put(server, path + "s.ics", body).status_code == 201
    q = data_query("20260601T000000Z", "20260701T000000Z",
                   '<c:expand start="20260601T000000Z" end="20260701T000000Z"/>')
    ms = multistatus(dav(server, "REPORT", path, q, depth=1))
    data = unfold(ms[path + "s.ics"]["props"][C + "calendar-data"].text)
    assert "DTSTART:20260612T150000Z" in data.splitlines(), data  # EDT is UTC-4
    assert "TZID" not in data and "VTIMEZONE" not in data
    assert "SUMMARY:Single in New York" in data
    # without expand the event keeps its time zone
    q = data_query("20260601T000000Z", "20260701T000000Z", "")
    data = unfold(multistatus(dav(server, "REPORT", path, q, depth=1))[path + "s.ics"]["props"]
                  [C + "calendar-data"].text)
    assert "DTSTART;TZID=America/New_York:20260612T110000" in data


def test_rfc4791_9_6_6_limit_recurrence_set(server):
    path = new_calendar(server)
    assert put(server, path + "d.ics", recurring_with_overrides(str(uuid.uuid4()))).status_code == 201
    q = data_query("20260120T000000Z", "20260130T000000Z",
                   '<c:limit-recurrence-set start="20260120T000000Z" end="20260130T000000Z"/>')
    ms = multistatus(dav(server, "REPORT", path, q, depth=1))
    data = unfold(ms[path + "d.ics"]["props"][C + "calendar-data"].text)
    # the master with its rule and exclusion, the override that lies in the range only
    assert "RRULE:FREQ=DAILY;COUNT=15" in data and "EXDATE" in data
    assert "RECURRENCE-ID:20260113T090000Z" in data
    assert "RECURRENCE-ID:20260112T090000Z" not in data and "SUMMARY:Moved" not in data
    # without the limit both overrides are there
    full = server.http().get(server.base + path + "d.ics").text
    assert "SUMMARY:Moved" in unfold(full) and "SUMMARY:Later" in unfold(full)
    # limit-freebusy-set is accepted (no VFREEBUSY is stored: nothing to limit)
    q = data_query("20260120T000000Z", "20260130T000000Z",
                   '<c:limit-freebusy-set start="20260120T000000Z" end="20260130T000000Z"/>')
    assert path + "d.ics" in multistatus(dav(server, "REPORT", path, q, depth=1))


def test_rfc4791_5_2_6_min_and_max_date_time(server):
    path = new_calendar(server)
    p = multistatus(propfind(server, path, "<c:min-date-time/><c:max-date-time/>"))[path]["props"]
    lo, hi = p[C + "min-date-time"].text, p[C + "max-date-time"].text
    assert len(lo) == 16 and lo.endswith("Z") and len(hi) == 16 and hi > lo
    assert lo <= "16040101T000000Z"  # Apple's birthdays of an unknown year stay storable
    def etags():
        ms = multistatus(propfind(server, path, "<d:getetag/>", depth=1))
        return {h: e["props"][D + "getetag"].text for h, e in ms.items()}

    before = etags()
    ev = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
                      f"UID:{uuid.uuid4()}", "DTSTAMP:20260101T000000Z", "DTSTART:{}",
                      "DURATION:PT1H", "SUMMARY:Old", "END:VEVENT", "END:VCALENDAR", ""])
    r = put(server, path + "old.ics", ev.replace("{}", "15000101T100000Z"))
    assert r.status_code == 403 and C + "min-date-time" in error_condition(r)
    r = put(server, path + "far.ics", ev.replace("{}", "35000101T100000Z"))
    assert r.status_code == 403 and C + "max-date-time" in error_condition(r)
    assert etags() == before
    assert put(server, path + "bday.ics", ev.replace("{}", "16040101T100000Z")).status_code == 201
    # a time-range outside the range: calendar-query and free-busy-query (§7.8, §7.10)
    r = dav(server, "REPORT", path, data_query("15000101T000000Z", "20260101T000000Z", ""), depth=1)
    assert r.status_code == 403 and C + "min-date-time" in error_condition(r)
    r = dav(server, "REPORT", path, data_query("20260101T000000Z", "35000101T000000Z", ""), depth=1)
    assert r.status_code == 403 and C + "max-date-time" in error_condition(r)
    fb = (f'<c:free-busy-query {NSDECL}><c:time-range start="15000101T000000Z" '
          'end="20260107T000000Z"/></c:free-busy-query>')
    r = dav(server, "REPORT", path, fb, depth=1)
    assert r.status_code == 403 and C + "min-date-time" in error_condition(r)


def test_listing_of_one_of_several_calendars_follows_changes(fresh_server):
    """With two calendars each listing holds its own members, and stays right as events
    are created, moved between the calendars and destroyed (over JMAP and DAV)."""
    s = fresh_server
    acct = s.account("bob")
    _, cals = s.call("Calendar/get", {"accountId": acct}, user="bob")
    (one,) = [c["id"] for c in cals["list"]]
    _, res = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Two"}}},
                    user="bob")
    two = res["created"]["c"]["id"]

    def create(cal, title):
        _, res = s.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
            "calendarIds": {cal: True}, "title": title, "start": "2026-01-01T10:00:00"}}},
            user="bob")
        return res["created"]["e"]["id"]

    home = homes(s, "bob")[0]

    def listing(cal):
        ms = multistatus(propfind(s, home + cal + "/", "<d:getetag/>", depth=1, user="bob"))
        return {h.rsplit("/", 1)[1][:-4] for h in ms if h != home + cal + "/"}

    a, b = create(one, "A"), create(two, "B")
    assert listing(one) == {a} and listing(two) == {b}
    c = create(two, "C")
    s.call("CalendarEvent/set", {"accountId": acct, "update": {a: {"calendarIds": {two: True}}}},
           user="bob")
    assert listing(one) == set() and listing(two) == {a, b, c}
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [b]}, user="bob")
    assert put(s, home + one + "/d.ics", ics(str(uuid.uuid4()), "D"), user="bob").status_code == 201
    assert listing(two) == {a, c}
    assert len(listing(one)) == 1
    # a calendar-query without a time-range lists from the same map
    q = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
         '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter>'
         '</c:filter></c:calendar-query>')
    ms = multistatus(dav(s, "REPORT", home + two + "/", q, depth=1, user="bob"))
    assert {h.rsplit("/", 1)[1][:-4] for h in ms} == {a, c}


def test_rfc4791_7_9_multiget_sees_each_change(server):
    """calendar-data follows every change of the object (renderings are kept by ETag)."""
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, path + "m.ics", ics(uid, "First")).status_code == 201
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'<d:href>{path}m.ics</d:href></c:calendar-multiget>')

    def data():
        e = multistatus(dav(server, "REPORT", path, body, depth=1))[path + "m.ics"]["props"]
        return e[D + "getetag"].text, unfold(e[C + "calendar-data"].text)

    tag1, d1 = data()
    assert "SUMMARY:First" in d1 and data() == (tag1, d1)
    _, q = server.call("CalendarEvent/query", {"accountId": server.account(),
                                               "filter": {"uid": uid}})
    server.call("CalendarEvent/set", {"accountId": server.account(),
                                      "update": {q["ids"][0]: {"title": "Second"}}})
    tag2, d2 = data()
    assert tag2 != tag1 and "SUMMARY:Second" in d2 and "SUMMARY:First" not in d2
    assert put(server, path + "m.ics", ics(uid, "Third")).status_code == 204
    assert "SUMMARY:Third" in data()[1]
