"""RFC 8620 §7.3 EventSource: StateChange right after the commit, types filter,
closeafter=state, ping with interval, access_token for clients that cannot set
headers, Last-Event-ID."""
import json
import threading
import time

import requests

from conftest import run_cli


def es_url(server, types="*", closeafter="no", ping="0"):
    tmpl = server.session()["eventSourceUrl"]
    return (tmpl.replace("{types}", types).replace("{closeafter}", closeafter)
            .replace("{ping}", ping))


class Stream:
    def __init__(self, server, url, user="alice", **kw):
        self.r = server.http(user).get(url, stream=True, timeout=10, **kw) if user else \
            requests.get(url, stream=True, timeout=10, **kw)
        self.lines = self.r.iter_lines(decode_unicode=True)

    def event(self):
        """The next event as (name, data, id); comments are skipped."""
        name, data, eid = None, [], None
        for line in self.lines:
            if line == "":
                if name or data:
                    return name, "\n".join(data), eid
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                eid = value
        return None

    def close(self):
        self.r.close()


def test_state_change_pushed_after_commit(server, acct):
    s = Stream(server, es_url(server))
    assert s.r.status_code == 200
    assert s.r.headers["Content-Type"].startswith("text/event-stream")
    t0 = time.time()
    out = server.call("Calendar/set", {"accountId": acct, "create": {"p": {"name": "Push"}}})[1]
    name, data, eid = s.event()
    assert name == "state" and eid
    sc = json.loads(data)
    assert sc["@type"] == "StateChange"
    assert sc["changed"][acct]["Calendar"] == out["newState"]
    assert time.time() - t0 < 5
    server.call("Calendar/set", {"accountId": acct, "destroy": [out["created"]["p"]["id"]]})
    name, data, eid2 = s.event()
    assert json.loads(data)["changed"][acct]["Calendar"] != out["newState"]
    assert eid2 != eid
    s.close()


def test_types_filter(server, acct):
    s = Stream(server, es_url(server, types="ParticipantIdentity", closeafter="state"))
    server.call("Calendar/set", {"accountId": acct, "create": {"p": {"name": "Filtered"}}})
    out = server.call("ParticipantIdentity/set", {"accountId": acct, "create": {
        "i": {"calendarAddress": "mailto:push@example.com"}}})[1]
    name, data, _ = s.event()
    sc = json.loads(data)
    assert list(sc["changed"][acct]) == ["ParticipantIdentity"]
    assert sc["changed"][acct]["ParticipantIdentity"] == out["newState"]
    # closeafter=state: the response ends after the event
    assert s.event() is None
    server.call("ParticipantIdentity/set", {"accountId": acct,
                                            "destroy": [out["created"]["i"]["id"]]})


def test_ping(server):
    s = Stream(server, es_url(server, ping="1"))
    t0 = time.time()
    name, data, eid = s.event()
    assert name == "ping" and eid is None
    assert json.loads(data) == {"interval": 1}
    name, data, _ = s.event()
    assert name == "ping" and time.time() - t0 < 6
    s.close()


def test_access_token_parameter(server, acct):
    token = run_cli(server.data, "token", "create", "alice").stdout.strip()
    url = es_url(server, closeafter="state") + "&access_token=" + token
    s = Stream(server, url, user=None)
    assert s.r.status_code == 200
    out = server.call("Calendar/set", {"accountId": acct, "create": {"t": {"name": "Tok"}}})[1]
    name, data, _ = s.event()
    assert json.loads(data)["changed"][acct]["Calendar"] == out["newState"]
    server.call("Calendar/set", {"accountId": acct, "destroy": [out["created"]["t"]["id"]]})
    bad = requests.get(es_url(server) + "&access_token=jmapd_wrong", timeout=5)
    assert bad.status_code == 401


def test_other_users_do_not_see_changes(server, acct):
    """dave has no access to alice's account: bob shares it, so bob sees it."""
    bob_stream = Stream(server, es_url(server, closeafter="state"), user="bob")
    bob_acct = server.account("bob")
    out = server.call("Calendar/set", {"accountId": bob_acct, "create": {"b": {"name": "B"}}},
                      user="bob")[1]
    name, data, _ = bob_stream.event()
    changed = json.loads(data)["changed"]
    assert bob_acct in changed  # the first event is bob's own change
    server.call("Calendar/set", {"accountId": bob_acct, "destroy": [out["created"]["b"]["id"]]},
                user="bob")
    carol_stream = Stream(server, es_url(server, closeafter="state"), user="carol")
    out = server.call("Calendar/set", {"accountId": bob_acct, "create": {"b": {"name": "B"}}},
                      user="bob")[1]
    # carol cannot see bob's account: a change in alice's account reaches her first,
    # with the states of the accounts she can see (her own and alice's), not bob's
    out2 = server.call("Calendar/set", {"accountId": acct, "create": {"a": {"name": "A"}}})[1]
    name, data, _ = carol_stream.event()
    changed = json.loads(data)["changed"]
    assert sorted(changed) == sorted([acct, server.account("carol")])
    assert changed[acct]["Calendar"] == out2["newState"] and bob_acct not in changed
    server.call("Calendar/set", {"accountId": bob_acct, "destroy": [out["created"]["b"]["id"]]},
                user="bob")
    server.call("Calendar/set", {"accountId": acct, "destroy": [out2["created"]["a"]["id"]]})


def test_last_event_id_gets_current_state(server, acct):
    s = Stream(server, es_url(server, types="Calendar", closeafter="state"),
               headers={"Last-Event-ID": "1"})
    name, data, _ = s.event()
    state = server.call("Calendar/get", {"accountId": acct, "ids": []})[1]["state"]
    assert json.loads(data)["changed"][acct] == {"Calendar": state}


def test_bad_parameters(server):
    h = server.http()
    assert h.get(es_url(server, closeafter="never"), timeout=5).status_code == 400
    assert h.get(es_url(server, ping="-3"), timeout=5).status_code == 400
    assert h.get(es_url(server, ping="abc"), timeout=5).status_code == 400


def test_many_streams_and_concurrent_writes(server, acct):
    streams = [Stream(server, es_url(server, types="Calendar", closeafter="state"))
               for _ in range(20)]
    out = server.call("Calendar/set", {"accountId": acct, "create": {"m": {"name": "M"}}})[1]
    for s in streams:
        name, data, _ = s.event()
        assert json.loads(data)["changed"][acct]["Calendar"] == out["newState"]
    server.call("Calendar/set", {"accountId": acct, "destroy": [out["created"]["m"]["id"]]})


def test_reconnect_lists_every_registered_type(server, acct):
    """RFC 8620 §7.3 (Last-Event-ID: changes missed while away are sent at once) and
    §7.1 TypeState: the first StateChange after a reconnect carries every data type
    of the account, contacts included (issue 12 §1.7), each at its current state."""
    contacts = "urn:ietf:params:jmap:contacts"
    out = server.call("AddressBook/set", {"accountId": acct, "create": {"b": {"name": "Away"}}},
                      using=["urn:ietf:params:jmap:core", contacts])[1]
    s = Stream(server, es_url(server, closeafter="state"), headers={"Last-Event-ID": "1"})
    name, data, _ = s.event()
    s.close()
    changed = json.loads(data)["changed"][acct]
    cal = "urn:ietf:params:jmap:calendars"
    for t, cap in [("Calendar", cal), ("ParticipantIdentity", cal), ("CalendarEvent", cal),
                   ("AddressBook", contacts), ("ContactCard", contacts)]:
        state = server.call(t + "/get", {"accountId": acct, "ids": []},
                            using=["urn:ietf:params:jmap:core", cap])[1]["state"]
        assert changed.get(t) == state, t
    assert changed["AddressBook"] == out["newState"]
    server.call("AddressBook/set", {"accountId": acct, "destroy": [out["created"]["b"]["id"]]},
                using=["urn:ietf:params:jmap:core", contacts])


def test_first_state_change_lists_every_type_without_last_event_id(server, acct):
    """Issue 12 §1.7, RFC 8620 §7.1/§7.3: the first StateChange of a stream, with or
    without Last-Event-ID, carries every registered type of every account the user
    can see at its current state; later ones carry what changed."""
    contacts = "urn:ietf:params:jmap:contacts"
    cal = "urn:ietf:params:jmap:calendars"
    s = Stream(server, es_url(server))
    out = server.call("Calendar/set", {"accountId": acct, "create": {"f": {"name": "F"}}})[1]
    name, data, _ = s.event()
    changed = json.loads(data)["changed"][acct]
    for t, cap in [("Calendar", cal), ("ParticipantIdentity", cal), ("CalendarEvent", cal),
                   ("AddressBook", contacts), ("ContactCard", contacts)]:
        state = server.call(t + "/get", {"accountId": acct, "ids": []},
                            using=["urn:ietf:params:jmap:core", cap])[1]["state"]
        assert changed.get(t) == state, t
    assert changed["Calendar"] == out["newState"]
    out2 = server.call("Calendar/set", {"accountId": acct,
                                        "destroy": [out["created"]["f"]["id"]]})[1]
    name, data, _ = s.event()
    assert json.loads(data)["changed"] == {acct: {"Calendar": out2["newState"]}}
    s.close()
