"""draft-ietf-jmap-calendars §5 (uid and recurrenceId identify an event in an account)
and RFC 9610 §3 (a card's uid) when one /set creates many objects: on PostgreSQL the
transaction then loads the account's uids and unique keys once and lays its own
creates and destroys over them, so an insert need not wait for the unique index
(issue 15: a round trip per object was the cost of W1). Runs on both stores: the
answers are the same."""
from test_calendar_event import cal, ev_set  # noqa: F401 (cal is a fixture)
from test_contacts_util import account, card_set, cs, new_book, ok, unique  # noqa: F401


def event(cal_id, uid, day):
    return {"calendarIds": {cal_id: True}, "uid": uid, "title": uid,
            "start": f"2025-03-{day:02d}T10:00:00", "duration": "PT1H"}


def test_uid_clashes_within_one_set(server, acct, cal):  # noqa: F811
    out = ev_set(server, acct, create={"x": event(cal, "older@example.com", 1),
                                       "gone": event(cal, "gone@example.com", 2)})
    gone = out["created"]["gone"]["id"]
    ev_set(server, acct, destroy=[gone])
    creates = {f"k{i}": event(cal, f"new{i}@example.com", 3 + i) for i in range(6)}
    creates["dup-new"] = event(cal, "new4@example.com", 20)  # created earlier in this call
    creates["dup-old"] = event(cal, "older@example.com", 21)  # stored before
    creates["reuse"] = event(cal, "gone@example.com", 22)  # its event was destroyed
    creates["inst"] = {**event(cal, "new1@example.com", 23), "recurrenceId": "2025-03-04T10:00:00"}
    out = ev_set(server, acct, create=creates)
    assert sorted(out.get("notCreated", {})) == ["dup-new", "dup-old"], out.get("notCreated")
    for k in ("dup-new", "dup-old"):
        assert out["notCreated"][k]["properties"] == ["uid"]
    assert sorted(out["created"]) == sorted(["reuse", "inst"] + [f"k{i}" for i in range(6)])
    # a later call: its transaction loads the uids again, with this call's creates
    k0 = out["created"]["k0"]["id"]
    out = ev_set(server, acct, update={k0: {"title": "renamed"}},
                 create={"again": event(cal, "new0@example.com", 24),
                         "fresh": event(cal, "fresh@example.com", 25),
                         "fresh2": event(cal, "fresh2@example.com", 26)})
    assert out["notCreated"]["again"]["properties"] == ["uid"]
    assert sorted(out["created"]) == ["fresh", "fresh2"] and k0 in out["updated"]


def test_card_uid_clashes_within_one_set_rfc9610(cs):  # noqa: F811
    """RFC 9610 §3 (one card per uid in an account): the unique key is the store's;
    a create whose uid another card has (stored before, or created earlier in the same
    call) is refused alone, the others are created, and an update may take the uid a
    destroyed card left."""
    acct = account(cs)
    book = new_book(cs, acct)
    base = unique("urn:uuid:")

    def card(n):
        return {"addressBookIds": {book: True}, "@type": "Card", "version": "1.0",
                "uid": f"{base}-{n}", "kind": "individual"}

    out = card_set(cs, acct, create={"old": card("old"), "gone": card("gone")})
    gone = out["created"]["gone"]["id"]
    card_set(cs, acct, destroy=[gone])
    creates = {f"k{i}": card(i) for i in range(5)}
    creates["dup-new"] = card(3)
    creates["dup-old"] = card("old")
    creates["reuse"] = card("gone")
    out = card_set(cs, acct, create=creates)
    assert sorted(out.get("notCreated", {})) == ["dup-new", "dup-old"], out.get("notCreated")
    for k in ("dup-new", "dup-old"):
        assert out["notCreated"][k]["type"] in ("alreadyExists", "invalidProperties")
    assert sorted(out["created"]) == sorted(["reuse"] + [f"k{i}" for i in range(5)])
    got = ok(cs, "ContactCard/get", {"accountId": acct, "ids": [out["created"]["k3"]["id"]],
                                     "properties": ["uid"]})
    assert got["list"][0]["uid"] == f"{base}-3"
