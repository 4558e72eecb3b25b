"""calendar-query's CALDAV:filter as RFC 4791 §9.7 defines it, read from outside: nested
comp-filters (VALARM), comp-filter is-not-defined, the scope of a prop-filter (its own
component, not the VTIMEZONE beside it), param-filter (§9.7.3), text-match on the value
unescaped with its collation (§7.5: i;ascii-casemap by default, i;octet, an unknown one
refused with CALDAV:supported-collation) and negate-condition, time-range on a property and
on a VALARM (§9.9), and the filters §7.8 calls invalid (CALDAV:valid-filter)."""
import uuid

from davutil import C, CR, NSDECL, dav, error_condition, multistatus, new_addressbook, \
    new_calendar, propfind, put


def event(uid, *lines, summary="Event", start="DTSTART:20260110T100000Z"):
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
                        f"UID:{uid}", "DTSTAMP:20260101T000000Z", start, "DURATION:PT1H",
                        f"SUMMARY:{summary}", *lines, "END:VEVENT", "END:VCALENDAR", ""])


ALARM = ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Soon", "TRIGGER:-PT15M", "END:VALARM"]


def query(server, path, inner, depth=1):
    """The names of the members a VCALENDAR comp-filter holding inner finds."""
    body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
            f'<c:comp-filter name="VCALENDAR">{inner}</c:comp-filter></c:filter>'
            '</c:calendar-query>')
    r = dav(server, "REPORT", path, body, depth=depth)
    return r


def found(server, path, inner):
    return {h.rsplit("/", 1)[1][:-4] for h in multistatus(query(server, path, inner))}


def vevent(inner):
    return f'<c:comp-filter name="VEVENT">{inner}</c:comp-filter>'


def summary_match(text, attrs=""):
    return vevent(f'<c:prop-filter name="SUMMARY"><c:text-match{attrs}>{text}</c:text-match>'
                  '</c:prop-filter>')


def calendar_of(server, events):
    path = new_calendar(server)
    for name, text in events.items():
        r = put(server, path + name + ".ics", text)
        assert r.status_code == 201, (name, r.text, server.read_log()[-2000:])
    return path


def test_rfc4791_7_5_1_supported_collation_set_on_calendars_and_address_books(server):
    """§7.5.1 (and RFC 6352 §8.3.1): the collations a query may name, on the collection."""
    cal, book = new_calendar(server), new_addressbook(server)
    for path, ns in ((cal, C), (book, CR)):
        pfx = "c" if ns == C else "cr"
        ms = multistatus(propfind(server, path, f"<{pfx}:supported-collation-set/>"))
        got = {e.text for e in ms[path]["props"][ns + "supported-collation-set"]}
        assert {"i;ascii-casemap", "i;octet"} <= got if ns == C else \
            {"i;ascii-casemap", "i;unicode-casemap"} <= got


def test_rfc4791_7_5_collations_octet_ascii_casemap_and_unknown(server):
    path = calendar_of(server, {"dentist": event(str(uuid.uuid4()), summary="Dentist Visit")})
    # the default and i;ascii-casemap ignore ASCII case; i;octet does not
    assert found(server, path, summary_match("DENTIST")) == {"dentist"}
    assert found(server, path, summary_match("dentist", ' collation="default"')) == {"dentist"}
    assert found(server, path, summary_match("dentist", ' collation="i;octet"')) == set()
    assert found(server, path, summary_match("Dentist", ' collation="i;octet"')) == {"dentist"}
    # §7.5: a collation the server does not support is a CALDAV:supported-collation error
    r = query(server, path, summary_match("x", ' collation="i;klingon"'))
    assert r.status_code == 403 and C + "supported-collation" in error_condition(r)


def test_rfc4791_9_7_5_text_match_on_the_unescaped_value_and_negate_condition(server):
    path = calendar_of(server, {
        "lunch": event(str(uuid.uuid4()), summary="Lunch\\, with Bob"),
        "gone": event(str(uuid.uuid4()), "STATUS:CANCELLED", summary="Gone"),
        "on": event(str(uuid.uuid4()), "STATUS:CONFIRMED", summary="On"),
    })
    # RFC 5545 §3.3.11: "\," is a comma of the text
    assert found(server, path, summary_match("lunch, with")) == {"lunch"}
    # §9.7.5's example: STATUS not CANCELLED (a member without STATUS has none to test)
    neg = vevent('<c:prop-filter name="STATUS"><c:text-match negate-condition="yes">CANCELLED'
                 '</c:text-match></c:prop-filter>')
    assert found(server, path, neg) == {"on"}


def test_rfc4791_9_7_2_prop_filter_scope_is_its_component(server):
    """A prop-filter tests the properties of the component of its comp-filter: the
    VTIMEZONE beside the VEVENT does not lend it TZOFFSETFROM, the VALARM inside does not
    lend it DESCRIPTION."""
    path = calendar_of(server, {
        "zoned": event(str(uuid.uuid4()), *ALARM,
                       start="DTSTART;TZID=Europe/Berlin:20260110T100000"),
    })
    assert found(server, path, vevent('<c:prop-filter name="DTSTART"/>')) == {"zoned"}
    assert found(server, path, vevent('<c:prop-filter name="TZOFFSETFROM"/>')) == set()
    assert found(server, path, vevent('<c:prop-filter name="DESCRIPTION"><c:text-match>Soon'
                                      '</c:text-match></c:prop-filter>')) == set()
    assert found(server, path, '<c:comp-filter name="VTIMEZONE"><c:prop-filter '
                               'name="TZID"><c:text-match>Berlin</c:text-match></c:prop-filter>'
                               '</c:comp-filter>') == {"zoned"}


def test_rfc4791_9_7_1_nested_comp_filter_and_is_not_defined(server):
    path = calendar_of(server, {
        "alarm": event(str(uuid.uuid4()), *ALARM),
        "quiet": event(str(uuid.uuid4())),
    })
    assert found(server, path, vevent('<c:comp-filter name="VALARM"/>')) == {"alarm"}
    assert found(server, path, vevent('<c:comp-filter name="VALARM"><c:is-not-defined/>'
                                      '</c:comp-filter>')) == {"quiet"}
    assert found(server, path, vevent('<c:comp-filter name="VALARM"><c:prop-filter '
                                      'name="ACTION"><c:text-match>display</c:text-match>'
                                      '</c:prop-filter></c:comp-filter>')) == {"alarm"}
    # a calendar holds no VTODO: "VTODO is not defined" is true of every member
    assert found(server, path, '<c:comp-filter name="VTODO"><c:is-not-defined/>'
                               '</c:comp-filter>') == {"alarm", "quiet"}
    assert found(server, path, '<c:comp-filter name="VTODO"/>') == set()
    # every member is a VEVENT
    assert found(server, path, vevent('<c:is-not-defined/>')) == set()


def test_rfc4791_9_9_time_range_on_valarm_trigger(server):
    """§9.9: a VALARM overlaps a range that holds its trigger time (start <= trigger < end);
    -PT15M before a 10:00Z start triggers at 09:45Z."""
    path = calendar_of(server, {"alarm": event(str(uuid.uuid4()), *ALARM)})

    def alarm_in(start, end):
        return found(server, path, vevent(f'<c:comp-filter name="VALARM"><c:time-range '
                                          f'start="{start}" end="{end}"/></c:comp-filter>'))

    assert alarm_in("20260110T094000Z", "20260110T095000Z") == {"alarm"}
    assert alarm_in("20260110T094500Z", "20260110T094600Z") == {"alarm"}
    assert alarm_in("20260110T095000Z", "20260110T110000Z") == set()
    assert alarm_in("20260110T090000Z", "20260110T094500Z") == set()


def test_rfc4791_9_7_3_param_filter(server):
    """§7.8.7's example: events by an attendee's PARTSTAT."""
    org = "ORGANIZER;CN=Org:mailto:org@example.com"
    path = calendar_of(server, {
        "accepted": event(str(uuid.uuid4()), org,
                          "ATTENDEE;PARTSTAT=ACCEPTED;CN=Ann:mailto:ann@example.com"),
        "declined": event(str(uuid.uuid4()), org,
                          "ATTENDEE;PARTSTAT=DECLINED;CN=Ann:mailto:ann@example.com"),
    })
    pf = ('<c:prop-filter name="ATTENDEE"><c:text-match>mailto:ann@example.com</c:text-match>'
          '<c:param-filter name="PARTSTAT"><c:text-match>ACCEPTED</c:text-match>'
          '</c:param-filter></c:prop-filter>')
    assert found(server, path, vevent(pf)) == {"accepted"}
    no_role = ('<c:prop-filter name="ATTENDEE"><c:param-filter name="X-NOT-THERE">'
               '<c:is-not-defined/></c:param-filter></c:prop-filter>')
    assert found(server, path, vevent(no_role)) == {"accepted", "declined"}
    has_cn = ('<c:prop-filter name="ATTENDEE"><c:param-filter name="CN"/></c:prop-filter>')
    assert found(server, path, vevent(has_cn)) == {"accepted", "declined"}


def test_rfc4791_9_9_time_range_on_a_property(server):
    """§9.9: DTSTART (among the date-time properties) overlaps when start <= value < end."""
    path = calendar_of(server, {
        "jan": event(str(uuid.uuid4())),
        "feb": event(str(uuid.uuid4()), start="DTSTART:20260210T100000Z"),
    })
    pf = ('<c:prop-filter name="DTSTART"><c:time-range start="20260201T000000Z" '
          'end="20260301T000000Z"/></c:prop-filter>')
    assert found(server, path, vevent(pf)) == {"feb"}


def test_rfc4791_7_8_valid_filter_preconditions(server):
    path = new_calendar(server)
    bad = [
        # §7.8's own examples: a time-range in a SUMMARY prop-filter, a VEVENT in a VTODO
        vevent('<c:prop-filter name="SUMMARY"><c:time-range start="20260101T000000Z"/>'
               '</c:prop-filter>'),
        '<c:comp-filter name="VTODO"><c:comp-filter name="VEVENT"/></c:comp-filter>',
        # §9.9: a time-range without start and end; with the end before the start
        vevent('<c:time-range/>'),
        vevent('<c:time-range start="20260201T000000Z" end="20260101T000000Z"/>'),
        # §9.7.5: negate-condition is yes or no
        vevent('<c:prop-filter name="SUMMARY"><c:text-match negate-condition="maybe">x'
               '</c:text-match></c:prop-filter>'),
    ]
    for inner in bad:
        r = query(server, path, inner)
        assert r.status_code == 403 and C + "valid-filter" in error_condition(r), inner
    # §9.7: the filter holds exactly one comp-filter, the VCALENDAR one
    body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
            '<c:comp-filter name="VCALENDAR"/><c:comp-filter name="VCALENDAR"/></c:filter>'
            '</c:calendar-query>')
    r = dav(server, "REPORT", path, body, depth=1)
    assert r.status_code == 403 and C + "valid-filter" in error_condition(r)


def data_report(server, path, data, filt='<c:comp-filter name="VCALENDAR"/>'):
    body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/>{data}</d:prop><c:filter>'
            f'{filt}</c:filter></c:calendar-query>')
    return dav(server, "REPORT", path, body, depth=1)


def test_rfc4791_9_6_1_partial_retrieval_of_components_and_properties(server):
    """§9.6.1-§9.6.4 (§7.8.1's example): only the components and properties named, a
    novalue property with its name and parameters alone; allprop and allcomp."""
    path = calendar_of(server, {"a": event(str(uuid.uuid4()), *ALARM, "LOCATION:Room 1",
                                           summary="Planning")})
    data = ('<c:calendar-data><c:comp name="VCALENDAR"><c:prop name="VERSION"/>'
            '<c:comp name="VEVENT"><c:prop name="SUMMARY"/><c:prop name="UID"/>'
            '<c:prop name="LOCATION" novalue="yes"/></c:comp></c:comp></c:calendar-data>')
    ms = multistatus(data_report(server, path, data))
    text = ms[path + "a.ics"]["props"][C + "calendar-data"].text
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines
    assert "SUMMARY:Planning" in lines and "LOCATION:" in lines
    assert any(line.startswith("UID:") for line in lines)
    for gone in ("PRODID", "DTSTART", "DURATION", "DTSTAMP", "BEGIN:VALARM", "BEGIN:VTIMEZONE"):
        assert not any(line.startswith(gone) for line in lines), gone
    # allprop and allcomp inside VEVENT: the whole event with its alarm
    data = ('<c:calendar-data><c:comp name="VCALENDAR"><c:comp name="VEVENT"><c:allprop/>'
            '<c:allcomp/></c:comp></c:comp></c:calendar-data>')
    text = multistatus(data_report(server, path, data))[path + "a.ics"]["props"][
        C + "calendar-data"].text
    assert "DTSTART" in text and "BEGIN:VALARM" in text and "TRIGGER" in text
    assert "PRODID" not in text and "VERSION" not in text


def test_rfc4791_7_8_supported_calendar_data_precondition(server):
    """§7.8, §9.6: calendar-data's content-type and version name a type the server has."""
    path = calendar_of(server, {"a": event(str(uuid.uuid4()))})
    r = data_report(server, path, '<c:calendar-data content-type="application/calendar+json"/>')
    assert r.status_code == 403 and C + "supported-calendar-data" in error_condition(r)
    r = data_report(server, path, '<c:calendar-data content-type="text/calendar" version="1.0"/>')
    assert r.status_code == 403 and C + "supported-calendar-data" in error_condition(r)
    ok = data_report(server, path, '<c:calendar-data content-type="text/calendar" '
                                   'version="2.0"/>')
    assert C + "calendar-data" in multistatus(ok)[path + "a.ics"]["props"]
