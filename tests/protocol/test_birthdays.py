"""The birthdays calendar (issue 17 §4): a per-user calendar derived from the
anniversaries of the account's ContactCards (RFC 9553 §2.8.1 Anniversary: birth,
wedding, death), one all-day event recurring yearly (RFC 8984 §4.3.3) per
anniversary, kept in step as cards change (CalendarEvent/changes and push show it),
read-only but for per-user properties (draft-ietf-jmap-calendars-27 §4 myRights,
§5 per-user properties), with a default all-day alert, off by default and turned
on with Calendar/set (vendor property https://jmapd.org/ns/birthdays) or the CLI."""
import json
import subprocess

import pytest

from conftest import JMAPD, Server
from test_push import Stream, es_url

BDAY = "https://jmapd.org/ns/birthdays"
BDAY_PATCH = BDAY.replace("~", "~0").replace("/", "~1")  # a PatchObject key (RFC 8620 §5.3)
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars",
         "urn:ietf:params:jmap:contacts"]


@pytest.fixture
def srv():
    s = Server()
    yield s
    s.close()


def book_of(s, user="alice"):
    _, r = s.call("AddressBook/get", {"accountId": s.account(user)}, user=user, using=USING)
    return r["list"][0]["id"]


def card(s, name, anniversaries, user="alice"):
    _, r = s.call("ContactCard/set", {"accountId": s.account(user), "create": {"k": {
        "addressBookIds": {book_of(s, user): True}, "name": {"full": name},
        "anniversaries": anniversaries}}}, user=user, using=USING)
    assert "k" in (r["created"] or {}), r
    return r["created"]["k"]["id"]


def birth(year=None, month=12, day=10, kind="birth"):
    date = {"@type": "PartialDate", "month": month, "day": day}
    if year:
        date["year"] = year
    return {"@type": "Anniversary", "kind": kind, "date": date}


def make_calendar(s, user="alice", **extra):
    _, r = s.call("Calendar/set", {"accountId": s.account(user), "create": {"b": dict(
        {"name": "Birthdays", BDAY: True}, **extra)}}, user=user, using=USING)
    return r


def events_in(s, cal, user="alice"):
    _, r = s.call("CalendarEvent/get", {"accountId": s.account(user)}, user=user, using=USING)
    return {e["title"]: e for e in r["list"] if cal in e["calendarIds"]}


def event_state(s, user="alice"):
    _, r = s.call("CalendarEvent/get", {"accountId": s.account(user), "ids": []}, user=user,
                  using=USING)
    return r["state"]


def test_off_by_default_and_created_with_calendar_set_filled_from_cards(srv):
    ada = card(srv, "Ada Lovelace", {"b": birth(1815, 12, 10)})
    card(srv, "Grace Hopper", {"b": birth(None, 12, 9), "w": birth(1930, 6, 15, "wedding"),
                               "x": {"@type": "Anniversary", "kind": "death",
                                     "date": {"@type": "Timestamp",
                                              "utc": "1992-01-01T12:00:00Z"}}})
    card(srv, "No dates", {})
    _, cals = srv.call("Calendar/get", {"accountId": srv.account()}, using=USING)
    assert not any(c[BDAY] for c in cals["list"])  # off by default
    r = make_calendar(srv)
    cal = r["created"]["b"]["id"]
    evs = events_in(srv, cal)
    assert set(evs) == {"Ada Lovelace (birthday)", "Grace Hopper (birthday)",
                        "Grace Hopper (wedding anniversary)",
                        "Grace Hopper (anniversary of death)"}
    ada_ev = evs["Ada Lovelace (birthday)"]
    # an all-day event recurring yearly (RFC 8984 §4.3.3), on the card's date
    assert ada_ev["start"] == "1815-12-10T00:00:00" and ada_ev["showWithoutTime"] is True
    assert ada_ev["duration"] == "P1D"
    assert ada_ev["recurrenceRule"]["frequency"] == "yearly"
    assert ada_ev["useDefaultAlerts"] is True and ada_ev["freeBusyStatus"] == "free"
    assert ada_ev["jmapd.org:anniversary"]["cardId"] == ada
    # a date without a year still recurs on its day
    assert evs["Grace Hopper (birthday)"]["start"].endswith("-12-09T00:00:00")
    assert evs["Grace Hopper (anniversary of death)"]["start"] == "1992-01-01T00:00:00"
    # the default all-day alert setting
    c = [c for c in srv.call("Calendar/get", {"accountId": srv.account(), "ids": [cal]},
                             using=USING)[1]["list"]][0]
    alerts = list(c["defaultAlertsWithoutTime"].values())
    assert len(alerts) == 1 and alerts[0]["trigger"]["offset"] == "PT9H"


def test_yearly_occurrences_expand_including_29_february(srv):
    card(srv, "Leap Day", {"b": birth(2000, 2, 29)})
    card(srv, "Ada", {"b": birth(1815, 12, 10)})
    cal = make_calendar(srv)["created"]["b"]["id"]
    starts = []
    for after, before in (("2026-02-01", "2027-03-01"), ("2028-01-01", "2028-12-31")):
        _, q = srv.call("CalendarEvent/query", {"accountId": srv.account(), "filter": {
            "inCalendar": cal, "after": after + "T00:00:00", "before": before + "T00:00:00"},
            "expandRecurrences": True}, using=USING)
        assert "ids" in q, q
        _, g = srv.call("CalendarEvent/get", {"accountId": srv.account(), "ids": q["ids"],
                                              "properties": ["title", "start"]}, using=USING)
        starts += [(e["title"], e["start"][:10]) for e in g["list"]]
    starts.sort()
    assert ("Ada (birthday)", "2026-12-10") in starts and ("Ada (birthday)", "2028-12-10") in starts
    # 29 February: the last day of February in the years without one
    leap = [s for t, s in starts if t.startswith("Leap")]
    assert leap == ["2026-02-28", "2027-02-28", "2028-02-29"]


def test_kept_in_step_as_cards_change_with_real_changes(srv):
    ada = card(srv, "Ada Lovelace", {"b": birth(1815, 12, 10)})
    cal = make_calendar(srv)["created"]["b"]["id"]
    before = events_in(srv, cal)["Ada Lovelace (birthday)"]
    state = event_state(srv)
    acc = srv.account()
    # a change that does not touch the anniversaries or the name writes no event
    srv.call("ContactCard/set", {"accountId": acc, "update": {ada: {
        "notes": {"n": {"@type": "Note", "note": "mathematician"}}}}}, using=USING)
    assert event_state(srv) == state
    # a new card, a changed date, then a removed anniversary
    grace = card(srv, "Grace Hopper", {"b": birth(1906, 12, 9)})
    srv.call("ContactCard/set", {"accountId": acc, "update": {ada: {
        "anniversaries/b/date/day": 11}}}, using=USING)
    _, ch = srv.call("CalendarEvent/changes", {"accountId": acc, "sinceState": state},
                     using=USING)
    evs = events_in(srv, cal)
    assert ch["created"] == [evs["Grace Hopper (birthday)"]["id"]]
    assert ch["updated"] == [before["id"]]  # the same event, its id kept
    assert evs["Ada Lovelace (birthday)"]["start"] == "1815-12-11T00:00:00"
    # renaming the contact renames the event
    srv.call("ContactCard/set", {"accountId": acc, "update": {grace: {
        "name": {"full": "Rear Admiral Grace Hopper"}}}}, using=USING)
    assert "Rear Admiral Grace Hopper (birthday)" in events_in(srv, cal)
    # a destroyed card takes its events along
    state = event_state(srv)
    srv.call("ContactCard/set", {"accountId": acc, "destroy": [ada]}, using=USING)
    _, ch = srv.call("CalendarEvent/changes", {"accountId": acc, "sinceState": state},
                     using=USING)
    assert ch["destroyed"] == [before["id"]]
    assert set(events_in(srv, cal)) == {"Rear Admiral Grace Hopper (birthday)"}


def test_read_only_but_per_user_properties_writable(srv):
    card(srv, "Ada", {"b": birth(1815, 12, 10)})
    cal = make_calendar(srv)["created"]["b"]["id"]
    acc = srv.account()
    c = srv.call("Calendar/get", {"accountId": acc, "ids": [cal]}, using=USING)[1]["list"][0]
    assert c["myRights"]["mayWriteAll"] is False and c["myRights"]["mayWriteOwn"] is False
    assert c["myRights"]["mayUpdatePrivate"] is True
    eid = events_in(srv, cal)["Ada (birthday)"]["id"]
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "update": {
        eid: {"title": "changed"}}}, using=USING)
    assert r["notUpdated"][eid]["type"] == "forbidden"
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "destroy": [eid]}, using=USING)
    assert r["notDestroyed"][eid]["type"] == "forbidden"
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "create": {"n": {
        "calendarIds": {cal: True}, "title": "x", "start": "2027-01-01T00:00:00",
        "showWithoutTime": True, "duration": "P1D"}}}, using=USING)
    assert r["notCreated"]["n"]["type"] == "forbidden"
    alert = {"a1": {"@type": "Alert", "trigger": {"@type": "OffsetTrigger",
                                                  "offset": "-P1D"}}}
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "update": {
        eid: {"color": "red", "useDefaultAlerts": False, "alerts": alert}}}, using=USING)
    assert eid in r["updated"], r
    # the user's per-user properties survive the card's next change
    kid = events_in(srv, cal)["Ada (birthday)"]["jmapd.org:anniversary"]["cardId"]
    srv.call("ContactCard/set", {"accountId": acc, "update": {kid: {
        "name": {"full": "Ada King"}}}}, using=USING)
    ev = events_in(srv, cal)["Ada King (birthday)"]
    assert ev["id"] == eid and ev["color"] == "red" and ev["useDefaultAlerts"] is False
    assert ev["alerts"]["a1"]["trigger"]["offset"] == "-P1D"
    # the calendar's own properties are the user's
    _, r = srv.call("Calendar/set", {"accountId": acc, "update": {cal: {
        "name": "Anniversaries", "color": "green"}}}, using=USING)
    assert cal in r["updated"], r


def test_property_rules(srv):
    cal = make_calendar(srv)["created"]["b"]["id"]
    acc = srv.account()
    # at most one per account
    r = make_calendar(srv)
    assert r["notCreated"]["b"]["type"] == "invalidProperties"
    assert BDAY in r["notCreated"]["b"]["properties"]
    # neither turned off nor turned on later
    _, r = srv.call("Calendar/set", {"accountId": acc, "update": {cal: {BDAY_PATCH: False}}},
                    using=USING)
    assert r["notUpdated"][cal]["type"] == "invalidProperties"
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {"o": {"name": "Other"}}},
                    using=USING)
    other = r["created"]["o"]["id"]
    _, r = srv.call("Calendar/set", {"accountId": acc, "update": {other: {BDAY_PATCH: True}}},
                    using=USING)
    assert r["notUpdated"][other]["type"] == "invalidProperties"
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {"x": {
        "name": "X", BDAY: "yes"}}}, using=USING)
    assert r["notCreated"]["x"]["type"] == "invalidProperties"
    # destroyed, it can be made again, filled again
    card(srv, "Ada", {"b": birth(1815, 12, 10)})
    _, r = srv.call("Calendar/set", {"accountId": acc, "destroy": [cal],
                                     "onDestroyRemoveEvents": True}, using=USING)
    assert r["destroyed"] == [cal]
    r = make_calendar(srv)
    assert r["created"], r["notCreated"]
    again = r["created"]["b"]["id"]
    assert set(events_in(srv, again)) == {"Ada (birthday)"}


def test_users_are_independent(srv):
    card(srv, "Alice's friend", {"b": birth(1990, 5, 1)})
    card(srv, "Bob's friend", {"b": birth(1991, 6, 2)}, user="bob")
    cal = make_calendar(srv)["created"]["b"]["id"]
    assert set(events_in(srv, cal)) == {"Alice's friend (birthday)"}
    bcal = make_calendar(srv, user="bob")["created"]["b"]["id"]
    assert set(events_in(srv, bcal, user="bob")) == {"Bob's friend (birthday)"}


def test_cli_creates_the_calendar(srv):
    card(srv, "Ada", {"b": birth(1815, 12, 10)})

    def run():
        return subprocess.run([JMAPD, "subscribe", "--user", "alice", "--birthdays", "--name",
                               "Geburtstage", "--data", srv.data, "--config", srv.config],
                              capture_output=True, text=True, timeout=60)
    r = run()
    assert r.returncode == 0, r.stderr
    cal = r.stdout.strip()
    c = srv.call("Calendar/get", {"accountId": srv.account(), "ids": [cal]},
                 using=USING)[1]["list"][0]
    assert c["name"] == "Geburtstage" and c[BDAY] is True
    assert set(events_in(srv, cal)) == {"Ada (birthday)"}
    r = run()
    assert r.returncode == 1 and "already" in r.stderr


PRIVATE = {"BirthdaysCalendar", "BirthdaysCardLink", "CalendarEventTombstone"}


def test_card_change_is_pushed_with_the_event_state(srv):
    """RFC 8620 §7: the CalendarEvent state the card's change bumped reaches open
    EventSource streams with the ContactCard state, after the same commit."""
    cal = make_calendar(srv)["created"]["b"]["id"]
    acc = srv.account()
    s = Stream(srv, es_url(srv))

    def card_state():
        return srv.call("ContactCard/get", {"accountId": acc, "ids": []}, using=USING)[1]["state"]

    def next_change(before):
        """The next StateChange whose ContactCard state is not before's (a stream
        may first tell the current states of every type)."""
        for _ in range(5):
            name, data, _ = s.event()
            assert name == "state"
            changed = json.loads(data)["changed"][acc]
            if changed.get("ContactCard") not in (None, before):
                return changed
        raise AssertionError("no StateChange for the card")

    try:
        before = card_state()
        card(srv, "Ada", {"b": birth(1815, 12, 10)})
        changed = next_change(before)
        assert changed["CalendarEvent"] == event_state(srv)
        # only JMAP types: the server's private bookkeeping is not announced
        assert not set(changed) & PRIVATE, changed
        assert "Ada (birthday)" in events_in(srv, cal)
        # a destroyed card: its event's destroy is pushed too
        kid = events_in(srv, cal)["Ada (birthday)"]["jmapd.org:anniversary"]["cardId"]
        before = card_state()
        srv.call("ContactCard/set", {"accountId": acc, "destroy": [kid]}, using=USING)
        changed = next_change(before)
        assert not set(changed) & PRIVATE, changed
        assert changed["CalendarEvent"] == event_state(srv)
    finally:
        s.close()


def test_vcard_import_reaches_the_birthdays_calendar(srv, tmp_path):
    """Cards written by any path (here `jmapd import` of a vCard with BDAY and
    ANNIVERSARY, RFC 6350 §6.2.5, §6.2.6, converted by RFC 9555) are followed."""
    cal = make_calendar(srv)["created"]["b"]["id"]
    vcf = tmp_path / "people.vcf"
    vcf.write_text("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:imp-1\r\nFN:Imported Person\r\n"
                   "BDAY:19800229\r\nANNIVERSARY:20100612\r\nEND:VCARD\r\n")
    out = subprocess.run([JMAPD, "import", "--user", "alice", str(vcf), "--data", srv.data,
                          "--config", srv.config], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    evs = events_in(srv, cal)
    assert evs["Imported Person (birthday)"]["start"] == "1980-02-29T00:00:00"
    assert evs["Imported Person (wedding anniversary)"]["start"] == "2010-06-12T00:00:00"


# ---- titles: a built-in language or the user's own templates ----

TITLES = "https://jmapd.org/ns/birthdayTitles"
TITLES_PATCH = TITLES.replace("~", "~0").replace("/", "~1")


def test_titles_in_a_language_and_from_templates_retitle_every_event(srv):
    ada = card(srv, "Ada Lovelace", {"b": birth(1815, 12, 10), "w": birth(1835, 7, 8, "wedding")})
    r = make_calendar(srv, **{TITLES: {"language": "de-AT"}})
    cal = r["created"]["b"]["id"]
    evs = events_in(srv, cal)
    assert set(evs) == {"Ada Lovelace (Geburtstag)", "Ada Lovelace (Hochzeitstag)"}
    ids = {e["id"] for e in evs.values()}
    state = event_state(srv)
    # a template of the user's own for one kind, the language's for the others: every
    # event is retitled in place (same ids; CalendarEvent/changes says updated)
    _, r = srv.call("Calendar/set", {"accountId": srv.account(), "update": {cal: {
        TITLES_PATCH: {"language": "fr", "birth": "🎂 {name}"}}}}, using=USING)
    assert cal in r["updated"], r
    evs = events_in(srv, cal)
    assert set(evs) == {"🎂 Ada Lovelace", "Ada Lovelace (anniversaire de mariage)"}
    assert {e["id"] for e in evs.values()} == ids
    _, ch = srv.call("CalendarEvent/changes", {"accountId": srv.account(), "sinceState": state},
                     using=USING)
    assert sorted(ch["updated"]) == sorted(ids) and not ch["created"] and not ch["destroyed"]
    # a new card takes the titles too; null is English again
    card(srv, "Grace Hopper", {"b": birth(None, 12, 9)})
    assert "🎂 Grace Hopper" in events_in(srv, cal)
    srv.call("Calendar/set", {"accountId": srv.account(), "update": {cal: {TITLES_PATCH: None}}},
             using=USING)
    assert set(events_in(srv, cal)) == {"Ada Lovelace (birthday)", "Grace Hopper (birthday)",
                                        "Ada Lovelace (wedding anniversary)"}
    assert ada


def test_titles_property_rules(srv):
    r = make_calendar(srv)
    cal = r["created"]["b"]["id"]
    for bad in ({"language": "tlh"}, {"birth": "no name here"}, {"birth": 3},
                {"colour": "x"}, "de", {"language": 7}):
        _, r = srv.call("Calendar/set", {"accountId": srv.account(), "update": {cal: {
            TITLES_PATCH: bad}}}, using=USING)
        assert r["notUpdated"][cal]["type"] == "invalidProperties", bad
        assert r["notUpdated"][cal]["properties"] == [TITLES]
    # only the birthdays calendar has titles
    _, r = srv.call("Calendar/set", {"accountId": srv.account(), "create": {"o": {
        "name": "Other", TITLES: {"language": "de"}}}}, using=USING)
    assert r["notCreated"]["o"]["properties"] == [TITLES]


def test_cli_birthdays_in_a_language(srv):
    card(srv, "Ada Lovelace", {"b": birth(1815, 12, 10)})
    out = subprocess.run([JMAPD, "subscribe", "--user", "alice", "--birthdays", "--language", "nl",
                          "--data", srv.data], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert set(events_in(srv, out.stdout.strip())) == {"Ada Lovelace (verjaardag)"}
    out = subprocess.run([JMAPD, "subscribe", "--user", "bob", "--birthdays", "--language", "tlh",
                          "--data", srv.data], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "language" in out.stderr
