"""Why a CalendarEvent or ContactCard is invalid (issue 12 §1.8, RFC 8620 §5.3), and the
rules draft-ietf-calext-jscalendarbis-17 tightened, for new data only (issue 12 §2.4).

invalidProperties names each property path, and its description gives the reason the
JSCalendar or JSContact validator found for that path. The -17 rules hold for a create and
for what an update changes; an event stored under the -08 rules (here by `jmapd import`)
reads back and can still be updated where the update leaves those properties alone."""
from conftest import CORE, run_cli

CONTACTS = [CORE, "urn:ietf:params:jmap:contacts"]


def calendar(server, acct):
    return server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]


def create(server, acct, ev):
    out = server.call("CalendarEvent/set", {"accountId": acct, "create": {"k": ev}})[1]
    return (out.get("created") or {}).get("k"), (out.get("notCreated") or {}).get("k")


def reasons(err):
    """path -> reason, from the description 'invalid properties: p1: why; p2: why'."""
    d = err["description"]
    assert d.startswith("invalid properties: "), d
    out = {}
    for part in d[len("invalid properties: "):].split("; "):
        path, _, why = part.partition(": ")
        out[path] = why
    assert set(out) >= set(err["properties"]), (out, err["properties"])
    return out


def test_event_errors_give_the_validators_reason_issue12_1_8(server, acct):
    cal = calendar(server, acct)
    _, err = create(server, acct, {
        "calendarIds": {cal: True}, "title": "x", "start": "2025-01-01 10:00",
        "duration": "one hour", "timeZone": "Mars/Olympus",
        "recurrenceRule": {"frequency": "daily", "byHour": [25]},
        "participants": {"p1": {"name": "A", "roles": {"chair": True}}}})
    assert err["type"] == "invalidProperties"
    why = reasons(err)
    assert "not a LocalDateTime" in why["start"]
    assert "not a Duration" in why["duration"]
    assert "TimeZoneId" in why["timeZone"]
    assert "0 to 23" in why["recurrenceRule/byHour"]
    assert "needs calendarAddress" in why["participants/p1/roles"]
    assert why["participants/p1/calendarAddress"].startswith("required")
    assert "RFC 8984 sendTo is obsolete" in why["participants/p1/calendarAddress"]
    for path, text in why.items():
        assert text != "not valid JSCalendar 2.0" and "§" in text, (path, text)
    # what RFC 8984 spelt and JSCalendar 2.0 cannot take: the reason says so
    _, err = create(server, acct, {
        "calendarIds": {cal: True}, "start": "2025-01-01T10:00:00", "participants": {"p1": {
            "sendTo": {"imip": "mailto:a@example.com", "other": "tel:+1"}}}})
    assert "RFC 8984 sendTo is obsolete" in reasons(err)["participants/p1/sendTo"]


def test_card_errors_give_the_validators_reason_issue12_1_8(server, acct):
    book = server.call("AddressBook/get", {"accountId": acct}, using=CONTACTS)[1]["list"][0]["id"]
    out = server.call("ContactCard/set", {"accountId": acct, "create": {"k": {
        "addressBookIds": {book: True}, "kind": "martian",
        "emails": {"e1": {"address": 5}}, "anniversaries": {"a": {"kind": "birth", "date": {
            "@type": "PartialDate", "month": 13}}}}}}, using=CONTACTS)[1]
    why = reasons(out["notCreated"]["k"])
    assert "not registered and not vendor-specific" in why["kind"]
    assert "must be a String" in why["emails/e1/address"]
    assert "1..12" in why["anniversaries/a/date/month"]
    assert all("not valid JSContact" not in w for w in why.values()), why


def test_jscalendarbis17_rules_for_new_events_issue12_2_4(server, acct):
    cal = calendar(server, acct)
    base = {"calendarIds": {cal: True}, "title": "new", "start": "2025-05-01T10:00:00",
            "timeZone": "Europe/Berlin", "duration": "PT1H"}
    cases = [
        ({"color": "#abc"}, "color", "not a CSS color"),           # §3.2.12: #RRGGBB only
        ({"color": "no-such-colour"}, "color", "not a CSS color"),
        ({"organizerCalendarAddress": "mailto:o@example.com"},     # §3.4.4
         "organizerCalendarAddress", "needs a participant with a calendarAddress"),
        ({"participants": {"p": {"name": "P", "email": "p@example.com"}}},  # §3.4.6
         "participants/p/email", "needs calendarAddress"),
        ({"participants": {"p": {"calendarAddress": "mailto:p@example.com", "roles": {}}}},
         "participants/p/roles", "must not be empty"),                 # §3.4.6
        ({"participants": {"p": {"calendarAddress": "mailto:p@example.com",
                                 "delegatedTo": {"p2": True}}}},
         "participants/p/delegatedTo/p2", "a URI"),
        ({"localizations": {"de": {"title": "neu"}}}, "localizations", "reserved"),
    ]
    for extra, path, text in cases:
        created, err = create(server, acct, dict(base, **extra))
        assert created is None, (extra, created)
        assert err["type"] == "invalidProperties" and path in err["properties"], (extra, err)
        assert text in reasons(err)[path], (extra, err)
    # what -17 allows, and what the server adds: the organizer only with a participant
    # that has a calendarAddress
    created, err = create(server, acct, dict(base, color="DarkSlateGrey",
                                             participants={"p": {"name": "just a name"}}))
    assert err is None, err
    ev = server.call("CalendarEvent/get", {"accountId": acct, "ids": [created["id"]]})[1]["list"][0]
    assert ev["color"] == "DarkSlateGrey" and "organizerCalendarAddress" not in ev
    created, err = create(server, acct, dict(base, color="#A0B1C2", participants={
        "p": {"calendarAddress": "mailto:p@example.com", "email": "p@example.com",
              "roles": {"required": True}}}))
    assert err is None, err


def test_jscalendarbis17_stored_old_data_reads_back_and_updates_issue12_2_4(
        fresh_server, tmp_path):
    s = fresh_server
    acct = s.account()
    ics = tmp_path / "old.ics"
    ics.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
                   "UID:old-17@example.com\r\nDTSTAMP:20250101T000000Z\r\n"
                   "DTSTART:20250301T090000Z\r\nSUMMARY:stored\r\nCOLOR:#abc\r\n"
                   "ORGANIZER:mailto:o@example.com\r\n"
                   "ATTENDEE;EMAIL=not an address:mailto:p@example.com\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(ics))
    assert r.returncode == 0, r.stderr
    eid = s.call("CalendarEvent/query", {"accountId": acct,
                                         "filter": {"uid": "old-17@example.com"}})[1]["ids"][0]
    ev = s.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})[1]["list"][0]
    assert ev["color"] == "#abc"  # -08 allowed it; it reads back as stored
    pid = next(k for k, p in ev["participants"].items() if p.get("email"))
    # an update that leaves those properties alone is fine
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {eid: {
        "title": "renamed", f"participants/{pid}/participationStatus": "accepted"}}})[1]
    assert eid in out["updated"], out
    ev = s.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})[1]["list"][0]
    assert ev["title"] == "renamed" and ev["color"] == "#abc"
    # what an update changes follows -17
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {eid: {"color": "#abd"}}})[1]
    err = out["notUpdated"][eid]
    assert err["properties"] == ["color"] and "not a CSS color" in reasons(err)["color"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {eid: {
        f"participants/{pid}/email": "still not an address"}}})[1]
    err = out["notUpdated"][eid]
    assert "not an addr-spec" in reasons(err)[f"participants/{pid}/email"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {eid: {"color": "#AABBCC"}}})[1]
    assert eid in out["updated"], out


def test_task_errors_give_the_validators_reason_issue12_1_8(server, acct):
    """Task/set (draft-ietf-jmap-tasks-06) reports the JSCalendar validator's reasons too."""
    using = [CORE, "urn:ietf:params:jmap:tasks"]
    tacct = server.session()["primaryAccounts"]["urn:ietf:params:jmap:tasks"]
    lists = server.call("TaskList/get", {"accountId": tacct, "ids": None}, using=using)[1]["list"]
    out = server.call("Task/set", {"accountId": tacct, "create": {"t": {
        "@type": "Task", "taskListId": lists[0]["id"], "title": "x",
        "due": "tomorrow", "priority": 12}}}, using=using)[1]
    why = reasons(out["notCreated"]["t"])
    assert "not a LocalDateTime" in why["due"], why
    assert "0 to 9" in why["priority"], why
