"""CalDAV time zones by reference (RFC 7809): the server says it takes them
("calendar-no-timezone"), a client that sends "CalDAV-Timezones: F" gets iCalendar
data without the VTIMEZONEs of standard (IANA) zones, one that sends "T" or nothing
gets them, and data PUT without VTIMEZONE keeps its zone. Raw HTTP, black-box."""
import uuid

from davutil import C, NSDECL, dav, multistatus, new_calendar, put, unfold

ZONED = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
         "UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
         "DTSTART;TZID=Europe/Berlin:20260310T090000\r\n"
         "DTEND;TZID=America/New_York:20260310T060000\r\n"
         "SUMMARY:Zoned\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

# a zone that exists only as the VTIMEZONE the client sent: no standard one to refer to
CUSTOM = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
          "BEGIN:VTIMEZONE\r\nTZID:Custom Island Time\r\nBEGIN:STANDARD\r\n"
          "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\n"
          "TZNAME:CIT\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
          "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
          "DTSTART;TZID=Custom Island Time:20260310T090000\r\nDURATION:PT1H\r\n"
          "SUMMARY:Custom\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def vtimezones(text):
    return [line[5:] for line in unfold(text).splitlines() if line.startswith("TZID:")]


def multiget(server, path, names, tz=None):
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            + "".join(f"<d:href>{path}{n}</d:href>" for n in names) + "</c:calendar-multiget>")
    headers = {"CalDAV-Timezones": tz} if tz else None
    ms = multistatus(dav(server, "REPORT", path, body, depth=1, headers=headers))
    return {n: ms[path + n]["props"][C + "calendar-data"].text for n in names}


def get(server, path, tz=None):
    headers = {"CalDAV-Timezones": tz} if tz else None
    r = dav(server, "GET", path, headers=headers)
    assert r.status_code == 200
    return r


def test_rfc7809_3_options_announce_calendar_no_timezone(server):
    path = new_calendar(server)
    for target in (path, "/dav/calendars/"):
        r = dav(server, "OPTIONS", target)
        tokens = [t.strip() for t in r.headers["DAV"].split(",")]
        assert "calendar-access" in tokens
        assert "calendar-no-timezone" in tokens


def test_rfc7809_3_1_2_get_with_F_leaves_standard_vtimezones_out(server):
    path = new_calendar(server)
    assert put(server, path + "z.ics", ZONED.format(uid=uuid.uuid4())).status_code == 201
    full = get(server, path + "z.ics")
    assert sorted(vtimezones(full.text)) == ["America/New_York", "Europe/Berlin"]
    for asked in (None, "T"):
        assert vtimezones(get(server, path + "z.ics", asked).text) == vtimezones(full.text)
    lean = get(server, path + "z.ics", "F")
    assert vtimezones(lean.text) == []
    assert "BEGIN:VTIMEZONE" not in lean.text
    # the references stay: the TZIDs name the zones
    assert "DTSTART;TZID=Europe/Berlin:20260310T090000" in unfold(lean.text)
    assert "DTEND;TZID=America/New_York:20260310T060000" in unfold(lean.text)
    # the resource is the same resource: the same ETag either way
    assert lean.headers["ETag"] == full.headers["ETag"]


def test_rfc7809_3_1_2_reports_with_F_leave_standard_vtimezones_out(server):
    path = new_calendar(server)
    assert put(server, path + "z.ics", ZONED.format(uid=uuid.uuid4())).status_code == 201
    assert len(vtimezones(multiget(server, path, ["z.ics"])["z.ics"])) == 2
    assert vtimezones(multiget(server, path, ["z.ics"], "F")["z.ics"]) == []
    # a rendering kept for one kind of client is not served to the other
    assert len(vtimezones(multiget(server, path, ["z.ics"], "T")["z.ics"])) == 2
    body = (f'<c:calendar-query {NSDECL}><d:prop><c:calendar-data>'
            '<c:expand start="20260301T000000Z" end="20260401T000000Z"/></c:calendar-data>'
            '</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            '<c:time-range start="20260301T000000Z" end="20260401T000000Z"/>'
            '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>')
    ms = multistatus(dav(server, "REPORT", path, body, depth=1,
                         headers={"CalDAV-Timezones": "F"}))
    assert "BEGIN:VTIMEZONE" not in ms[path + "z.ics"]["props"][C + "calendar-data"].text


def test_rfc7809_3_1_2_a_custom_zone_is_still_sent(server):
    """Only standard zones go by reference: the client cannot look up a zone that exists
    only in the data it sent."""
    path = new_calendar(server)
    assert put(server, path + "c.ics", CUSTOM.format(uid=uuid.uuid4())).status_code == 201
    lean = get(server, path + "c.ics", "F").text
    assert vtimezones(lean) == ["Custom Island Time"]
    assert vtimezones(multiget(server, path, ["c.ics"], "F")["c.ics"]) == ["Custom Island Time"]


def test_rfc7809_3_1_1_put_without_vtimezone_keeps_the_zone(server):
    """A client that knows the server takes zones by reference stores data whose TZIDs
    name standard zones and carries no VTIMEZONE; the times keep their zones."""
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, path + "n.ics", ZONED.format(uid=uid),
               headers={"CalDAV-Timezones": "F"}).status_code == 201
    _, res = server.call("CalendarEvent/query", {"accountId": server.account(),
                                                 "filter": {"uid": uid}})
    _, got = server.call("CalendarEvent/get", {"accountId": server.account(), "ids": res["ids"],
                                               "properties": ["start", "timeZone", "duration"]})
    ev = got["list"][0]
    assert ev["start"] == "2026-03-10T09:00:00" and ev["timeZone"] == "Europe/Berlin"
    # 09:00 Berlin (UTC+1 on 10 March) = 08:00Z; 06:00 New York (UTC-4 after 8 March) = 10:00Z
    assert ev["duration"] == "PT2H"
    assert sorted(vtimezones(get(server, path + "n.ics").text)) == ["America/New_York",
                                                                   "Europe/Berlin"]



# ---- floating times in reports (RFC 4791 §7.3, §9.8; RFC 7809 §5.3) -------------------------

FLOATING = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
            "UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260310T090000\r\n"
            "DURATION:PT1H\r\nSUMMARY:Floating\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

NEW_YORK = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\n"
            "TZID:America/New_York\r\nBEGIN:DAYLIGHT\r\nDTSTART:20070311T020000\r\n"
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nTZOFFSETFROM:-0500\r\n"
            "TZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nDTSTART:20071104T020000\r\n"
            "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nTZOFFSETFROM:-0400\r\n"
            "TZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n")


def floating_hits(server, path, start, end, zone=""):
    body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
            '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            f'<c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter>'
            f'</c:filter>{zone}</c:calendar-query>')
    r = dav(server, "REPORT", path, body, depth=1)
    assert r.status_code == 207, r.text
    return sorted(h[len(path):] for h in multistatus(r))


def test_rfc4791_7_3_floating_time_in_the_query_timezone(server):
    path = new_calendar(server)
    assert put(server, path + "f.ics", FLOATING.format(uid=uuid.uuid4())).status_code == 201
    # no zone anywhere: the server's choice (UTC): 09:00-10:00Z
    assert floating_hits(server, path, "20260310T090000Z", "20260310T100000Z") == ["f.ics"]
    # §9.8 CALDAV:timezone: 09:00 in New York on 10 March (EDT, -4) is 13:00Z
    tz = f"<c:timezone>{NEW_YORK}</c:timezone>"
    assert floating_hits(server, path, "20260310T130000Z", "20260310T140000Z", tz) == ["f.ics"]
    assert floating_hits(server, path, "20260310T090000Z", "20260310T100000Z", tz) == []
    # RFC 7809 §5.3 CALDAV:timezone-id, the zone by its name
    tzid = "<c:timezone-id>Asia/Tokyo</c:timezone-id>"  # +9: 00:00Z
    assert floating_hits(server, path, "20260310T000000Z", "20260310T010000Z", tzid) == ["f.ics"]
    assert floating_hits(server, path, "20260310T090000Z", "20260310T100000Z", tzid) == []


def test_rfc4791_7_3_floating_time_in_the_calendar_timezone(server):
    path = new_calendar(server)
    body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop>'
            '<c:calendar-timezone-id>Europe/Berlin</c:calendar-timezone-id>'
            '</d:prop></d:set></d:propertyupdate>')
    assert dav(server, "PROPPATCH", path, body).status_code == 207
    assert put(server, path + "f.ics", FLOATING.format(uid=uuid.uuid4())).status_code == 201
    # 09:00 in Berlin on 10 March (CET, +1) is 08:00Z
    assert floating_hits(server, path, "20260310T080000Z", "20260310T083000Z") == ["f.ics"]
    assert floating_hits(server, path, "20260310T093000Z", "20260310T100000Z") == []
    # the query's own zone goes first
    tzid = "<c:timezone-id>Etc/UTC</c:timezone-id>"
    assert floating_hits(server, path, "20260310T093000Z", "20260310T100000Z", tzid) == ["f.ics"]
    # §7.10 free-busy-query: the calendar's zone too
    body = (f'<c:free-busy-query {NSDECL}><c:time-range start="20260310T000000Z" '
            'end="20260311T000000Z"/></c:free-busy-query>')
    r = dav(server, "REPORT", path, body, depth=1)
    assert r.status_code == 200, r.text
    assert "FREEBUSY;FBTYPE=BUSY:20260310T080000Z/20260310T090000Z" in unfold(r.text)


def test_rfc4791_7_3_floating_time_in_a_property_time_range(server):
    """§9.7.2 a prop-filter's time-range on a floating DTSTART, read in the query's zone."""
    path = new_calendar(server)
    assert put(server, path + "f.ics", FLOATING.format(uid=uuid.uuid4())).status_code == 201

    def hits(start, end, zone):
        body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
                '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
                f'<c:prop-filter name="DTSTART"><c:time-range start="{start}" end="{end}"/>'
                f'</c:prop-filter></c:comp-filter></c:comp-filter></c:filter>{zone}'
                '</c:calendar-query>')
        r = dav(server, "REPORT", path, body, depth=1)
        assert r.status_code == 207, r.text
        return sorted(h[len(path):] for h in multistatus(r))

    tokyo = "<c:timezone-id>Asia/Tokyo</c:timezone-id>"  # 09:00 +9 = 00:00Z
    assert hits("20260310T000000Z", "20260310T003000Z", tokyo) == ["f.ics"]
    assert hits("20260310T090000Z", "20260310T093000Z", tokyo) == []
    assert hits("20260310T090000Z", "20260310T093000Z", "") == ["f.ics"]
