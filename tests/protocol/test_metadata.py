"""JMAP Object Metadata (draft-ietf-jmap-metadata-02), issue 18: the capability,
`metadata` and per-user `privateMetadata` on every jmapd type, /get subselectors,
/set creates and patches with the draft's validation order, the quota, /changes
with updatedProperties and ignoreMetadataOnlyChanges, per-viewer state, /query
conditions and /queryChanges. Every example of the draft's §6 is a test here, with
the Mailbox, Email and FileNode of the examples played by jmapd's own types
(Calendar, CalendarEvent, ContactCard)."""
import xml.etree.ElementTree as ET

import pytest

from conftest import BLOB, CAL, CONFIG, CORE, Server
from groupware_util import CONTACTS, PRINCIPALS, GroupServer

MD = "urn:ietf:params:jmap:metadata"
TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, CAL, CONTACTS, TASKS, BLOB, MD]
MD_CONFIG = CONFIG + "metadata_namespaces = photography\nmetadata_max_depth = 3\n" \
                     "metadata_quota = 40000\n"
ACME = "acme.example.com"
TYPES = ["Calendar", "CalendarEvent", "ParticipantIdentity", "AddressBook", "ContactCard",
         "TaskList", "Task"]


@pytest.fixture(scope="module")
def s():
    srv = Server(config=MD_CONFIG)
    srv.a = srv.account()
    yield srv
    rc = srv.stop()
    log = srv.read_log()
    srv.tmp.cleanup()
    assert rc == 0, log[-4000:]
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-4000:]


def call(s, name, args, user="alice", using=USING):
    return s.call(name, dict({"accountId": s.a}, **args), user=user, using=using)


def calendar_id(s):
    _, res = call(s, "Calendar/get", {"ids": None, "properties": ["id"]})
    return res["list"][0]["id"]


def new_event(s, title="e", **extra):
    ev = {"calendarIds": {calendar_id(s): True}, "title": title,
          "start": "2024-12-15T10:00:00", "duration": "PT1H", "timeZone": "Europe/Paris"}
    ev.update(extra)
    _, res = call(s, "CalendarEvent/set", {"create": {"e": ev}})
    assert res.get("created") and "e" in res["created"], res
    return res["created"]["e"]["id"]


def update(s, type_, id_, patch, user="alice"):
    _, res = call(s, type_ + "/set", {"update": {id_: patch}}, user=user)
    return res


def get(s, type_, ids, props=None, user="alice", using=USING):
    args = {"ids": ids}
    if props is not None:
        args["properties"] = props
    name, res = call(s, type_ + "/get", args, user=user, using=using)
    assert name == type_ + "/get", res
    return res


def state(s, type_="CalendarEvent", user="alice"):
    return get(s, type_, [], user=user)["state"]


def set_error(res, id_, kind="notUpdated"):
    assert res.get(kind) and id_ in res[kind], res
    return res[kind][id_]


# ---- §1.1.1 and §6.1: the capability ------------------------------------------------------

def test_capability_example_s6_1(s):
    sess = s.session()
    assert sess["capabilities"][MD] == {}
    types = sess["accounts"][s.a]["accountCapabilities"][MD]["dataTypes"]
    for t in TYPES:
        assert types[t] == {"namespaces": ["photography"], "supportsVendorNamespaces": True,
                            "supportsPrivate": True, "maxDepth": 3}, t


# ---- §2: always returned, {} when empty --------------------------------------------------------

@pytest.mark.parametrize("type_", TYPES)
def test_metadata_always_returned_empty_s2(s, type_):
    if type_ == "Task":
        _, res = call(s, "Task/set", {"create": {"t": {"taskListId": task_list_id(s),
                                                       "title": "t"}}})
        assert res.get("created"), res
    elif type_ == "CalendarEvent":
        new_event(s)
    elif type_ == "ContactCard":
        _, res = call(s, "AddressBook/get", {"ids": None})
        _, res = call(s, "ContactCard/set", {"create": {"c": {
            "@type": "Card", "version": "1.0", "addressBookIds": {res["list"][0]["id"]: True},
            "name": {"full": "c"}}}})
        assert res.get("created"), res
    res = get(s, type_, None)
    assert res["list"], type_
    for obj in res["list"]:  # never null, never absent (§2)
        assert isinstance(obj["metadata"], dict), obj
        assert isinstance(obj["privateMetadata"], dict), obj
    assert any(o["metadata"] == {} and o["privateMetadata"] == {} for o in res["list"])


def test_without_the_capability_nothing_changes_s2(s):
    eid = new_event(s, metadata={ACME: {"a": 1}})
    obj = get(s, "CalendarEvent", [eid], using=[CORE, CAL])["list"][0]
    assert "metadata" not in obj and "privateMetadata" not in obj
    name, res = s.call("CalendarEvent/get", {"accountId": s.a, "ids": [eid],
                                             "properties": ["metadata"]}, using=[CORE, CAL])
    # a type with open properties (JSCalendar) has no such property stored either
    assert res.get("type") == "invalidArguments" or "metadata" not in res["list"][0], res


# ---- §6.2: fetching with subselectors ---------------------------------------------------------

def test_fetch_with_metadata_example_s6_2(s):
    _, res = call(s, "Calendar/set", {"create": {"c": {
        "name": "Team Inbox",
        "metadata": {ACME: {"color": "blue", "owner": "team-alpha"}, "other.example": {"x": 1}},
        "privateMetadata": {ACME: {"workflowState": "pending-review"}}}}})
    cid = res["created"]["c"]["id"]
    got = get(s, "Calendar", [cid], ["id", "name", "metadata/" + ACME, "privateMetadata/" + ACME])
    assert got["list"] == [{"id": cid, "name": "Team Inbox",
                            "metadata": {ACME: {"color": "blue", "owner": "team-alpha"}},
                            "privateMetadata": {ACME: {"workflowState": "pending-review"}}}]
    # union of subselectors; an explicit root supersedes them (§3.1)
    got = get(s, "Calendar", [cid], ["metadata/" + ACME, "metadata/other.example"])["list"][0]
    assert set(got["metadata"]) == {ACME, "other.example"} and "privateMetadata" not in got
    got = get(s, "Calendar", [cid], ["metadata", "metadata/" + ACME])["list"][0]
    assert got["metadata"] == {ACME: {"color": "blue", "owner": "team-alpha"},
                               "other.example": {"x": 1}}


def test_subselector_shapes_s3_1(s):
    eid = new_event(s, metadata={ACME: {"k": "v"}})
    for bad in ["metadata/" + ACME + "/k", "metadata/", "privateMetadata/a/b"]:
        _, res = call(s, "CalendarEvent/get", {"ids": [eid], "properties": [bad]})
        assert res["type"] == "invalidArguments", (bad, res)
    # a namespace not supported (a registered name not advertised) is left out silently
    got = get(s, "CalendarEvent", [eid], ["metadata/colour", "privateMetadata/colour"])
    assert got["list"][0]["metadata"] == {} and got["list"][0]["privateMetadata"] == {}


# ---- §6.3: patching one property inside a namespace -----------------------------------------

def test_patch_single_property_example_s6_3(s):
    _, res = call(s, "Calendar/set", {"create": {"c": {
        "name": "MB1", "metadata": {ACME: {"color": "blue", "owner": "team-alpha"},
                                    "keep.example": {"x": True}}}}})
    cid = res["created"]["c"]["id"]
    res = update(s, "Calendar", cid, {"metadata/acme.example.com/color": "green"})
    assert res["updated"] == {cid: None}, res
    md = get(s, "Calendar", [cid], ["metadata"])["list"][0]["metadata"]
    assert md == {ACME: {"color": "green", "owner": "team-alpha"}, "keep.example": {"x": True}}
    res = update(s, "Calendar", cid, {"metadata/acme.example.com/color": None})
    assert cid in res["updated"], res
    md = get(s, "Calendar", [cid], ["metadata"])["list"][0]["metadata"]
    assert md == {ACME: {"owner": "team-alpha"}, "keep.example": {"x": True}}
    # a whole namespace replaced drops its other keys, and null removes it (§3.2)
    update(s, "Calendar", cid, {"metadata/acme.example.com": {"only": 1}})
    md = get(s, "Calendar", [cid], ["metadata"])["list"][0]["metadata"]
    assert md == {ACME: {"only": 1}, "keep.example": {"x": True}}
    update(s, "Calendar", cid, {"metadata/acme.example.com": None})
    assert get(s, "Calendar", [cid], ["metadata"])["list"][0]["metadata"] == \
        {"keep.example": {"x": True}}
    # a key with "/" and "~" escaped as RFC 6901 says
    res = update(s, "Calendar", cid, {"metadata/keep.example/a~1b~0c": 2})
    assert cid in res["updated"], res
    assert get(s, "Calendar", [cid], ["metadata"])["list"][0]["metadata"] == \
        {"keep.example": {"x": True, "a/b~c": 2}}


# ---- §6.4: creating with private metadata --------------------------------------------------------

def test_create_with_private_metadata_example_s6_4(s):
    priv = {ACME: {"workflowState": "pending-review", "assignedTo": "carol@example.com"}}
    ev = {"calendarIds": {calendar_id(s): True}, "title": "Project Update",
          "start": "2024-12-15T10:00:00", "privateMetadata": priv}
    _, res = call(s, "CalendarEvent/set", {"create": {"draft1": ev}})
    created = res["created"]["draft1"]
    assert created["metadata"] == {} and "privateMetadata" not in created
    got = get(s, "CalendarEvent", [created["id"]])["list"][0]
    assert got["privateMetadata"] == priv and got["metadata"] == {}
    # another user with access to the account sees none of it (§4)
    other = get(s, "CalendarEvent", [created["id"]], user="bob")["list"][0]
    assert other["privateMetadata"] == {} and other["metadata"] == {}


def test_create_refuses_null_and_bad_values_s3_2(s):
    cal = calendar_id(s)
    bad = [{"metadata": None}, {"privateMetadata": None}, {"metadata": [1]},
           {"metadata": {"bad key!": {}}}, {"metadata": {"-x.example": {}}},
           {"metadata": {"a..b": {}}}, {"metadata": {"colour": {}}},
           {"metadata": {ACME: "not an object"}},
           {"metadata": {ACME: {"a": {"b": {"c": {"d": 1}}}}}}]
    for extra in bad:
        ev = dict({"calendarIds": {cal: True}, "title": "x", "start": "2024-01-01T00:00:00"},
                  **extra)
        _, res = call(s, "CalendarEvent/set", {"create": {"x": ev}})
        err = set_error(res, "x", "notCreated")
        assert err["type"] == "invalidProperties", (extra, err)
        assert any(p.split("/")[0] in ("metadata", "privateMetadata") for p in err["properties"])


# ---- §6.5: a registered namespace (the fictional `photography`) ----------------------------------

PHOTO = {"geoLocation": {"latitude": 46.362, "longitude": 14.090}, "cameraMake": "Canon",
         "cameraModel": "EOS R5", "aperture": "f/2.8", "shutterSpeed": "1/250", "iso": 400,
         "focalLength": "50mm", "dateTaken": "2023-10-01T01:14:00Z",
         "imageSize": {"width": 6000, "height": 4000}}


def test_registered_namespace_example_s6_5(s):
    _, res = call(s, "AddressBook/set", {"create": {"b": {"name": "photos"}}})
    bid = res["created"]["b"]["id"]
    _, res = call(s, "ContactCard/set", {"create": {"F456": {
        "@type": "Card", "version": "1.0", "addressBookIds": {bid: True},
        "name": {"full": "lake-island"}}}})
    fid = res["created"]["F456"]["id"]
    res = update(s, "ContactCard", fid, {"metadata/photography": PHOTO})
    assert res["updated"] == {fid: None}, res
    got = get(s, "ContactCard", [fid], ["id", "name", "metadata/photography"])["list"][0]
    assert got["metadata"] == {"photography": PHOTO} and got["name"]["full"] == "lake-island"


def test_depth_counting_s2_1(s):
    eid = new_event(s)
    # arrays add no depth of their own, objects inside them do: {"x": [{"y": 1}]} is 2
    assert update(s, "CalendarEvent", eid, {"metadata/a.example": {"x": [{"y": {"z": 1}}]}}
                  ).get("updated"), "depth 3 is maxDepth"
    res = update(s, "CalendarEvent", eid, {"metadata/a.example": {"x": [{"y": {"z": {}}}]}})
    assert set_error(res, eid)["type"] == "invalidProperties", res
    res = update(s, "CalendarEvent", eid, {"metadata/a.example/x/0": 1})
    assert set_error(res, eid)["type"] == "invalidPatch", res  # a pointer into an array
    res = update(s, "CalendarEvent", eid, {"metadata": {}, "metadata/a.example": {}})
    assert set_error(res, eid)["type"] == "invalidPatch", res  # RFC 8620 §5.3 prefixes
    res = update(s, "CalendarEvent", eid, {"metadata/no.example/k": 1})
    assert set_error(res, eid)["type"] == "invalidPatch", res  # no such namespace yet


# ---- §6.6: updating an event and its metadata atomically -------------------------------------------

def test_update_event_and_metadata_atomically_example_s6_6(s):
    eid = new_event(s, title="Review", metadata={ACME: {"owner": "x"}})
    before = state(s)
    res = update(s, "CalendarEvent", eid, {
        "title": "Quarterly Review Meeting", "start": "2024-12-15T14:00:00",
        "metadata/acme.example.com/lastModifiedReason": "Rescheduled per manager request",
        "metadata/acme.example.com/approvalStatus": "pending"})
    # the server's own change (sequence) may be reported; the metadata is as asked
    assert eid in res["updated"] and res["oldState"] == before, res
    assert "metadata" not in (res["updated"][eid] or {}) and res["newState"] != before
    got = get(s, "CalendarEvent", [eid], ["title", "start", "metadata"])["list"][0]
    assert got["title"] == "Quarterly Review Meeting" and got["start"] == "2024-12-15T14:00:00"
    assert got["metadata"] == {ACME: {"owner": "x", "approvalStatus": "pending",
                                      "lastModifiedReason": "Rescheduled per manager request"}}
    # one entry fails whole: a bad title keeps the metadata as it was, and the reverse
    res = update(s, "CalendarEvent", eid, {"title": 5, "metadata/acme.example.com/owner": "y"})
    assert set_error(res, eid)["type"] == "invalidProperties"
    res = update(s, "CalendarEvent", eid, {"title": "T2", "metadata/colour": {"a": 1}})
    assert set_error(res, eid)["type"] == "invalidProperties"
    got = get(s, "CalendarEvent", [eid], ["title", "metadata"])["list"][0]
    assert got["title"] == "Quarterly Review Meeting" and got["metadata"][ACME]["owner"] == "x"


# ---- §6.7: querying by metadata and a primary property together -----------------------------------

def test_query_metadata_with_primary_property_example_s6_7(s):
    cal = calendar_id(s)
    hit = new_event(s, title="q1", privateMetadata={ACME: {"memo": "please Follow Up soon"}})
    new_event(s, title="q2", privateMetadata={ACME: {"memo": "done"}})
    new_event(s, title="q3", metadata={ACME: {"memo": "follow up"}})
    flt = {"operator": "AND", "conditions": [
        {"inCalendar": cal}, {"privateMetadataExists": "acme.example.com/memo"},
        {"privateMetadataTextContains": {"path": "acme.example.com/memo", "value": "follow up"}}]}
    _, res = call(s, "CalendarEvent/query", {"filter": flt})
    assert res["ids"] == [hit], res
    # other users' private metadata is not theirs to match (§4)
    _, res = call(s, "CalendarEvent/query", {"filter": flt}, user="bob")
    assert res["ids"] == [], res


def task_list_id(s):
    _, res = call(s, "TaskList/set", {"create": {"l": {"name": "tasks"}}})
    return res["created"]["l"]["id"]


@pytest.mark.parametrize("type_", ["Task", "ContactCard"])
def test_query_conditions_s3_5(s, type_):
    if type_ == "Task":
        mk = {"taskListId": task_list_id(s), "title": "qc"}
    else:
        _, res = call(s, "AddressBook/get", {"ids": None})
        mk = {"@type": "Card", "version": "1.0", "addressBookIds": {res["list"][0]["id"]: True},
              "name": {"full": "qc"}}
    ids = {}
    for key, md in [("empty", {"z.example": {}}), ("full", {"z.example": {"k": "Value"}}),
                    ("none", {}), ("umlaut", {"z.example": {"u": "Größe ÄRGER"}})]:
        _, res = call(s, type_ + "/set", {"create": {key: dict(mk, metadata=md)}})
        ids[key] = res["created"][key]["id"]

    def q(cond):
        _, res = call(s, type_ + "/query", {"filter": cond})
        assert "ids" in res, res
        return set(res["ids"]) & set(ids.values())

    # a namespace alone must hold something; a key path any value
    assert q({"metadataExists": "z.example"}) == {ids["full"], ids["umlaut"]}
    assert q({"metadataExists": "z.example/k"}) == {ids["full"]}
    assert q({"metadataTextEquals": {"path": "z.example/k", "value": "Value"}}) == {ids["full"]}
    assert q({"metadataTextEquals": {"path": "z.example/k", "value": "value"}}) == set()
    assert q({"metadataTextContains": {"path": "z.example/k", "value": "ALU"}}) == {ids["full"]}
    assert q({"metadataTextContains": {"path": "z.example/k", "value": "xyz"}}) == set()
    assert q({"operator": "NOT", "conditions": [{"metadataExists": "z.example"}]}) == \
        {ids["empty"], ids["none"]}
    # case folding is Unicode's, not ASCII's alone
    assert q({"metadataTextContains": {"path": "z.example/u", "value": "ärger"}}) == \
        {ids["umlaut"]}
    # a namespace the type does not support matches nothing, without an error
    assert q({"metadataExists": "colour"}) == set()
    for bad in [{"metadataExists": 5}, {"metadataExists": ""}, {"metadataExists": "bad key/x"},
                {"metadataTextContains": {"path": "z.example"}},
                {"metadataTextEquals": {"path": "z.example", "value": 1}}]:
        _, res = call(s, type_ + "/query", {"filter": bad})
        assert res.get("type") == "invalidArguments", (bad, res)


# ---- §6.8: /changes and metadata-only changes -------------------------------------------------

def test_changes_metadata_only_example_s6_8(s):
    e1, e2 = new_event(s, "EM1"), new_event(s, "EM2")
    old = state(s)
    update(s, "CalendarEvent", e1, {"metadata": {ACME: {"seen": True}}})
    update(s, "CalendarEvent", e2, {"metadata/" + ACME: {"seen": True}})
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old})
    assert res["updated"] == [e1, e2] and res["updatedProperties"] == ["metadata"], res
    assert res["created"] == [] and res["destroyed"] == [] and res["newState"] != old
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old,
                                               "ignoreMetadataOnlyChanges": True})
    assert res["updated"] == [] and res["updatedProperties"] is None, res
    assert res["newState"] == state(s)
    update(s, "CalendarEvent", e1, {"privateMetadata/" + ACME: {"mine": 1}})
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old})
    assert res["updatedProperties"] == ["metadata", "privateMetadata"], res
    update(s, "CalendarEvent", e2, {"title": "EM2 renamed"})
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old})
    assert res["updatedProperties"] is None and set(res["updated"]) == {e1, e2}, res
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old,
                                               "ignoreMetadataOnlyChanges": True})
    assert res["updated"] == [e2], res
    # maxChanges pages through the metadata changes too
    seen, since, more = set(), old, True
    while more:
        _, res = call(s, "CalendarEvent/changes", {"sinceState": since, "maxChanges": 1})
        seen |= set(res["updated"])
        since, more = res["newState"], res["hasMoreChanges"]
    assert seen == {e1, e2} and since == state(s)


def test_created_with_metadata_reported_once_s3_3(s):
    old = state(s)
    eid = new_event(s, metadata={ACME: {"a": 1}}, privateMetadata={ACME: {"b": 2}})
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old})
    assert res["created"] == [eid] and res["updated"] == [], res
    call(s, "CalendarEvent/set", {"destroy": [eid]})
    _, res = call(s, "CalendarEvent/changes", {"sinceState": old})
    assert res["created"] == [] and res["updated"] == [] and res["destroyed"] == [], res


def test_query_changes_sees_metadata_changes_s3_4(s):
    _, res = call(s, "AddressBook/get", {"ids": None})
    _, res = call(s, "ContactCard/set", {"create": {"c": {
        "@type": "Card", "version": "1.0", "addressBookIds": {res["list"][0]["id"]: True},
        "name": {"full": "qch"}}}})
    cid = res["created"]["c"]["id"]
    flt = {"metadataExists": "w.example"}
    _, q = call(s, "ContactCard/query", {"filter": flt})
    assert cid not in q["ids"]
    update(s, "ContactCard", cid, {"metadata/w.example": {"on": True}})
    _, res = call(s, "ContactCard/queryChanges", {"filter": flt,
                                                  "sinceQueryState": q["queryState"]})
    assert [a["id"] for a in res["added"]] == [cid], res
    # another user's private change is none of alice's business (§3.4)
    _, q = call(s, "ContactCard/query", {"filter": {"privateMetadataExists": "w.example"}})
    update(s, "ContactCard", cid, {"privateMetadata/w.example": {"bob": True}}, user="bob")
    _, res = call(s, "ContactCard/queryChanges", {"filter": {"privateMetadataExists": "w.example"},
                                                  "sinceQueryState": q["queryState"]})
    assert res["added"] == [] and res["removed"] == [] and \
        res["newQueryState"] == q["queryState"], res


# ---- §4, §2.2: private metadata of two users on one account ----------------------------------------

def test_private_metadata_two_users_state_per_viewer_s2_2(s):
    eid = new_event(s, "shared")
    a0, b0 = state(s, user="alice"), state(s, user="bob")
    assert a0 == b0
    res = update(s, "CalendarEvent", eid, {"privateMetadata": {ACME: {"note": "bob's"}}},
                 user="bob")
    assert res["updated"] == {eid: None} and res["newState"] != b0, res
    assert state(s, user="alice") == a0  # alice's state does not move
    b1 = state(s, user="bob")
    assert b1 == res["newState"]
    _, res = call(s, "CalendarEvent/changes", {"sinceState": a0})
    assert res["updated"] == [] and res["newState"] == a0, res
    _, res = call(s, "CalendarEvent/changes", {"sinceState": b0}, user="bob")
    assert res["updated"] == [eid] and res["updatedProperties"] == ["privateMetadata"], res
    got = get(s, "CalendarEvent", [eid], ["privateMetadata"])["list"][0]
    assert got["privateMetadata"] == {}
    got = get(s, "CalendarEvent", [eid], ["privateMetadata"], user="bob")["list"][0]
    assert got["privateMetadata"] == {ACME: {"note": "bob's"}}
    # alice's own private write: hers alone, and bob's stays
    update(s, "CalendarEvent", eid, {"privateMetadata/" + ACME: {"note": "alice's"}})
    assert state(s, user="bob") == b1
    got = get(s, "CalendarEvent", [eid], ["privateMetadata"], user="bob")["list"][0]
    assert got["privateMetadata"] == {ACME: {"note": "bob's"}}
    # a shared change moves both
    update(s, "CalendarEvent", eid, {"metadata/" + ACME: {"x": 1}})
    assert state(s, user="bob") != b1 and state(s, user="alice") != a0


def test_push_initial_state_is_per_viewer_s2_2(s):
    import json
    from test_push import Stream, es_url
    eid = new_event(s, "pushed")
    a0 = state(s)
    update(s, "CalendarEvent", eid, {"privateMetadata/" + ACME: {"p": 1}}, user="bob")
    for user in ("alice", "bob"):
        st = Stream(s, es_url(s, types="CalendarEvent", closeafter="state"), user=user,
                    headers={"Last-Event-ID": "1"})  # RFC 8620 §7.3: the states at once
        name, data, _ = st.event()
        assert name == "state", (name, data)
        pushed = json.loads(data)["changed"][s.a]["CalendarEvent"]
        assert pushed == state(s, user=user), (user, data)
        st.r.close()
    assert state(s) == a0 != state(s, user="bob")


def test_private_write_pushed_to_its_writer_alone_s2_2(s):
    import json
    from test_push import Stream, es_url
    eid = new_event(s, "pushed privately")
    url = es_url(s, types="CalendarEvent")
    alice, bob = Stream(s, url, user="alice"), Stream(s, url, user="bob")
    res = update(s, "CalendarEvent", eid, {"privateMetadata/" + ACME: {"p": 2}}, user="bob")
    name, data, _ = bob.event()
    assert json.loads(data)["changed"][s.a]["CalendarEvent"] == res["newState"], data
    # alice hears nothing of it: the first thing her stream gets, given time to deliver
    # anything, is the next shared change
    __import__("time").sleep(0.5)
    res = update(s, "CalendarEvent", eid, {"title": "pushed to both"})
    name, data, _ = alice.event()
    assert json.loads(data)["changed"][s.a]["CalendarEvent"] == res["newState"], data
    name, data, _ = bob.event()
    assert json.loads(data)["changed"][s.a]["CalendarEvent"] == res["newState"], data
    alice.r.close()
    bob.r.close()


def test_read_only_user_writes_private_not_shared_s4(s):
    eid = new_event(s, "ro")
    res = update(s, "CalendarEvent", eid, {"privateMetadata/" + ACME: {"mine": True}},
                 user="carol")
    assert res["updated"] == {eid: None}, res
    res = update(s, "CalendarEvent", eid, {"metadata/" + ACME: {"x": 1}}, user="carol")
    assert set_error(res, eid)["type"] == "forbidden", res
    # forbidden comes first in the draft's order, before the namespace check (§3.2 rule 1)
    res = update(s, "CalendarEvent", eid, {"metadata/colour": {"x": 1}}, user="carol")
    assert set_error(res, eid)["type"] == "forbidden", res
    _, res = call(s, "CalendarEvent/set", {"update": {eid: {"title": "no"}}}, user="carol")
    assert res["type"] == "accountReadOnly", res


# ---- §5: the quota ----------------------------------------------------------------------------

def test_quota_over_quota_s5(s):
    big = {"blob": "x" * 15000}
    e1, e2, e3 = new_event(s, "q1"), new_event(s, "q2"), new_event(s, "q3")
    assert update(s, "CalendarEvent", e1, {"metadata/" + ACME: big}).get("updated")
    assert update(s, "CalendarEvent", e2, {"privateMetadata/" + ACME: big}).get("updated")
    res = update(s, "CalendarEvent", e3, {"metadata/" + ACME: big})
    assert set_error(res, e3)["type"] == "overQuota", res
    _, res = call(s, "CalendarEvent/set", {"create": {"n": {
        "calendarIds": {calendar_id(s): True}, "title": "n", "start": "2024-01-01T00:00:00",
        "metadata": {ACME: big}}}})
    assert set_error(res, "n", "notCreated")["type"] == "overQuota", res
    # shrinking and destroying give the room back
    assert update(s, "CalendarEvent", e1, {"metadata/" + ACME: None}).get("updated")
    call(s, "CalendarEvent/set", {"destroy": [e2]})
    assert update(s, "CalendarEvent", e3, {"metadata/" + ACME: big}).get("updated")
    update(s, "CalendarEvent", e3, {"metadata": {}})


# ---- §2.1.1: a namespace withdrawn after data was written ---------------------------------------

def test_withdrawn_namespace_kept_read_only_s2_1_1():
    srv = Server(config=MD_CONFIG)
    try:
        srv.a = srv.account()
        eid = new_event(srv, metadata={"photography": {"iso": 100}, ACME: {"a": 1}})
        srv.stop()
        with open(srv.config, "w") as f:
            f.write(CONFIG)
        srv.start()
        got = get(srv, "CalendarEvent", [eid], ["metadata"])["list"][0]
        assert got["metadata"] == {"photography": {"iso": 100}, ACME: {"a": 1}}
        res = update(srv, "CalendarEvent", eid, {"metadata/photography/iso": 200})
        assert set_error(res, eid)["type"] == "invalidProperties", res
        # a patch of another namespace keeps it, a removal of it is allowed
        assert update(srv, "CalendarEvent", eid, {"metadata/" + ACME + "/a": 2}).get("updated")
        assert update(srv, "CalendarEvent", eid, {"metadata/photography": None}).get("updated")
        got = get(srv, "CalendarEvent", [eid], ["metadata"])["list"][0]
        assert got["metadata"] == {ACME: {"a": 2}}
    finally:
        srv.close()


# ---- §4 with sharing: a sharee of one calendar ---------------------------------------------------

def test_sharee_private_metadata_on_shared_calendar_s4():
    gs = GroupServer(config=CONFIG)
    try:
        a = gs.own("alice")
        using = [CORE, CAL, PRINCIPALS, MD]
        _, res = gs.call("Calendar/set", {"accountId": a, "create": {"c": {
            "name": "shared", "shareWith": {gs.own("bob"): {
                "mayReadFreeBusy": True, "mayReadItems": True}}}}}, using=using)
        cid = res["created"]["c"]["id"]
        _, res = gs.call("CalendarEvent/set", {"accountId": a, "create": {"e": {
            "calendarIds": {cid: True}, "title": "t", "start": "2026-01-01T10:00:00"}}},
            using=using)
        eid = res["created"]["e"]["id"]
        _, st = gs.call("CalendarEvent/get", {"accountId": a, "ids": []}, using=using)
        _, res = gs.call("CalendarEvent/set", {"accountId": a, "update": {
            eid: {"privateMetadata/" + ACME: {"n": "bob"}}}}, user="bob", using=using)
        assert res["updated"] == {eid: None}, res
        _, res = gs.call("CalendarEvent/set", {"accountId": a, "update": {
            eid: {"metadata/" + ACME: {"n": "bob"}}}}, user="bob", using=using)
        assert res["notUpdated"][eid]["type"] == "forbidden", res
        _, res = gs.call("Calendar/set", {"accountId": a, "update": {
            cid: {"metadata/" + ACME: {"n": "bob"}}}}, user="bob", using=using)
        assert res["notUpdated"][cid]["type"] == "forbidden", res
        _, res = gs.call("Calendar/set", {"accountId": a, "update": {
            cid: {"privateMetadata/" + ACME: {"n": "bob"}}}}, user="bob", using=using)
        assert res["updated"] == {cid: None}, res
        _, got = gs.call("CalendarEvent/get", {"accountId": a, "ids": [eid]}, using=using)
        assert got["list"][0]["privateMetadata"] == {} and got["state"] == st["state"]
        _, got = gs.call("CalendarEvent/get", {"accountId": a, "ids": [eid]}, user="bob",
                         using=using)
        assert got["list"][0]["privateMetadata"] == {ACME: {"n": "bob"}}
        # a write right in another calendar gives none in this one
        _, res = gs.call("Calendar/set", {"accountId": a, "create": {"w": {
            "name": "writable", "shareWith": {gs.own("bob"): {
                "mayReadFreeBusy": True, "mayReadItems": True, "mayWriteAll": True}}}}},
            using=using)
        wid = res["created"]["w"]["id"]
        _, res = gs.call("CalendarEvent/set", {"accountId": a, "create": {"e": {
            "calendarIds": {wid: True}, "title": "w", "start": "2026-01-01T10:00:00"}}},
            using=using)
        weid = res["created"]["e"]["id"]
        _, res = gs.call("CalendarEvent/set", {"accountId": a, "update": {
            eid: {"metadata/" + ACME: {"n": "bob"}}, weid: {"metadata/" + ACME: {"n": "bob"}}}},
            user="bob", using=using)
        assert res["notUpdated"][eid]["type"] == "forbidden", res
        assert res["updated"] == {weid: None}, res
        _, got = gs.call("CalendarEvent/get", {"accountId": a, "ids": [weid]}, using=using)
        assert got["list"][0]["metadata"] == {ACME: {"n": "bob"}}
        # an outsider cannot write private metadata of what they cannot see
        _, res = gs.call("CalendarEvent/set", {"accountId": a, "update": {
            eid: {"privateMetadata/" + ACME: {"n": "frank"}}}}, user="frank", using=using)
        assert res.get("type") == "accountNotFound" or \
            res["notUpdated"][eid]["type"] == "notFound", res
    finally:
        gs.close()


# ---- issue 18 point 5: converters do not carry metadata -----------------------------------------

def test_exports_carry_no_metadata(s):
    eid = new_event(s, "exported", metadata={ACME: {"shared": "SHAREDSECRET"}},
                    privateMetadata={ACME: {"mine": "PRIVATESECRET"}})
    update(s, "CalendarEvent", eid, {"privateMetadata/" + ACME + "/bob": "BOBSECRET"},
           user="bob")
    ics = s.http().get(f"{s.base}/export/calendar/{s.a}/{calendar_id(s)}.ics")
    assert ics.status_code == 200 and "exported" in ics.text
    for secret in ("SHAREDSECRET", "PRIVATESECRET", "BOBSECRET", ACME):
        assert secret not in ics.text
    _, res = call(s, "AddressBook/get", {"ids": None})
    book = res["list"][0]["id"]
    _, res = call(s, "ContactCard/set", {"create": {"c": {
        "@type": "Card", "version": "1.0", "addressBookIds": {book: True},
        "name": {"full": "exported card"}, "metadata": {ACME: {"k": "SHAREDSECRET"}},
        "privateMetadata": {ACME: {"k": "PRIVATESECRET"}}}}})
    assert res.get("created"), res
    vcf = s.http().get(f"{s.base}/export/addressbook/{s.a}/{book}")
    assert vcf.status_code == 200 and "exported card" in vcf.text
    assert "SECRET" not in vcf.text and ACME not in vcf.text


def test_event_query_changes_metadata_s3_4(s):
    eid = new_event(s, "qc event")
    flt = {"metadataExists": "v.example"}
    _, q = call(s, "CalendarEvent/query", {"filter": flt})
    assert eid not in q["ids"], q
    update(s, "CalendarEvent", eid, {"metadata/v.example": {"on": 1}})
    _, res = call(s, "CalendarEvent/queryChanges", {"filter": flt,
                                                    "sinceQueryState": q["queryState"]})
    assert [a["id"] for a in res["added"]] == [eid], res
    _, q2 = call(s, "CalendarEvent/query", {"filter": flt})
    assert eid in q2["ids"]
    update(s, "CalendarEvent", eid, {"metadata/v.example": None})
    _, res = call(s, "CalendarEvent/queryChanges", {"filter": flt,
                                                    "sinceQueryState": q2["queryState"]})
    assert res["removed"] == [eid] and res["added"] == [], res


def test_deleted_user_private_metadata_goes_with_them_s4():
    srv = Server(config=MD_CONFIG)
    try:
        srv.a = srv.account()
        eid = new_event(srv, "kept")
        res = update(srv, "CalendarEvent", eid, {"privateMetadata/" + ACME: {"c": "carol's"}},
                     user="carol")
        assert res["updated"] == {eid: None}, res
        srv.stop()
        from conftest import run_cli
        for args in (["user", "del", "carol"], ["user", "add", "dave", "--password-stdin"],
                     ["user", "share", "alice", "--with", "dave", "--read-only"]):
            r = run_cli(srv.data, *args, "--config", srv.config, stdin="dave-pw\n")
            assert r.returncode == 0, r.stderr
        srv.start()
        srv.sessions["dave"] = __import__("requests").Session()
        srv.sessions["dave"].auth = ("dave", "dave-pw")
        got = get(srv, "CalendarEvent", [eid], ["privateMetadata"], user="dave")["list"][0]
        assert got["privateMetadata"] == {}, got
    finally:
        srv.close()


def test_query_changes_private_filter_is_per_user_s3_4(s):
    """Two users at the same state with the same privateMetadata filter have different
    results: neither one's /queryChanges may diff against the other's."""
    eid = new_event(s, "mine", privateMetadata={"u.example": {"alice": True}})
    update(s, "CalendarEvent", eid, {"title": "mine, shared change"})  # one state for both
    flt = {"privateMetadataExists": "u.example"}
    _, qa = call(s, "CalendarEvent/query", {"filter": flt})
    _, qb = call(s, "CalendarEvent/query", {"filter": flt}, user="bob")
    assert eid in qa["ids"] and eid not in qb["ids"]
    assert qa["queryState"] == qb["queryState"]
    for user, q in (("alice", qa), ("bob", qb)):
        _, res = call(s, "CalendarEvent/queryChanges", {"filter": flt,
                                                        "sinceQueryState": q["queryState"]},
                      user=user)
        assert res["added"] == [] and res["removed"] == [], (user, res)


# ---- §3.1 /get: stored metadata goes out as stored (issue 18's /get bound) ---------------

def test_get_returns_stored_text_exactly_s3_1(s):
    """A whole root is copied into the response from its stored text, unparsed: every
    value the client wrote comes back equal, escapes included (RFC 8259 §7)."""
    tricky = {ACME: {"q": 'say "hi" \\ back/slash', "ctl": "tab\tnl\ncr\r\x01\x1f\x00end",
                     "uni": "caf\u00e9 \u2028 \U0001f600", "nums": [0, -1, 2.5, 1e300, None],
                     "deep": {"a": [{"b": True, "c": False}]}, "": "empty key"}}
    eid = new_event(s, "stored text", metadata=tricky, privateMetadata={"z.example": tricky[ACME]})
    got = get(s, "CalendarEvent", [eid])["list"][0]
    assert got["metadata"] == tricky and got["privateMetadata"] == {"z.example": tricky[ACME]}
    # the whole response is one valid JSON text with the rest of the object intact
    r = s.post({"using": USING, "methodCalls": [
        ["CalendarEvent/get", {"accountId": s.a, "ids": [eid]}, "g"]]})
    assert r.json()["methodResponses"][0][1]["list"][0]["title"] == "stored text"


def test_result_reference_into_metadata_rfc8620_s3_7(s):
    """A later call's result reference may walk into the metadata of a /get response
    (RFC 8620 §3.7): the links an app keeps between objects (draft §1) used as ids."""
    a, b = new_event(s, "linked a"), new_event(s, "linked b")
    src = new_event(s, "links", metadata={ACME: {"links": [a, b]}})
    out = s.api([["CalendarEvent/get", {"accountId": s.a, "ids": [src]}, "g"],
                 ["CalendarEvent/get", {"accountId": s.a, "#ids": {
                     "resultOf": "g", "name": "CalendarEvent/get",
                     "path": "/list/0/metadata/" + ACME + "/links"}, "properties": ["title"]},
                  "h"]], using=USING)
    first, second = out["methodResponses"]
    assert first[1]["list"][0]["metadata"] == {ACME: {"links": [a, b]}}, out
    assert second[0] == "CalendarEvent/get", out
    assert sorted(x["title"] for x in second[1]["list"]) == ["linked a", "linked b"]


# ---- §2.2 and §7: DAV CTags and sync tokens follow the viewer's state --------------------------

def dav_tags(s, user):
    """{collection href: (getctag, sync-token)} of alice's calendars as user sees them."""
    from davutil import CS, D, homes, multistatus, propfind
    r = propfind(s, homes(s)[0], "<cs:getctag/><d:sync-token/>", depth=1, user=user)
    return {h: (e["props"][CS + "getctag"].text, e["props"][D + "sync-token"].text)
            for h, e in multistatus(r).items() if CS + "getctag" in e["props"]}


def test_dav_ctag_ignores_other_users_private_writes_s2_2_s7(s):
    """§2.2: another user's private write "MUST NOT advance" the type's state; §7: such
    an advance leaks "a signal that *something* private to A changed". A collection's
    CTag and sync token are that state over DAV."""
    eid = new_event(s, "dav tagged")
    before = {u: dav_tags(s, u) for u in ("alice", "carol")}
    assert before["alice"] and before["alice"] == before["carol"]
    res = update(s, "CalendarEvent", eid, {"privateMetadata/" + ACME: {"bob": 1}}, user="bob")
    assert res["updated"] == {eid: None}, res
    res = update(s, "Calendar", calendar_id(s), {"privateMetadata/" + ACME: {"bob": 1}},
                 user="bob")
    assert res["updated"] == {calendar_id(s): None}, res
    for u in ("alice", "carol"):
        assert dav_tags(s, u) == before[u], u
    # a sync from the unchanged token reports nothing new
    from davutil import D, dav, sync_token
    href, (_, tok) = next(iter(before["carol"].items()))
    body = (f'<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>{tok}'
            '</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>'
            '</d:sync-collection>')
    r = dav(s, "REPORT", href, body, user="carol", depth=0)
    assert r.status_code == 207 and sync_token(r) == tok, r.text
    assert ET.fromstring(r.content).findall(D + "response") == [], r.text
    # a change everybody sees still changes them
    update(s, "CalendarEvent", eid, {"title": "dav tagged 2"})
    for u in ("alice", "carol"):
        assert dav_tags(s, u) != before[u], u


# ---- §3.5 through the store's key index: every way a namespace comes and goes ----------------

@pytest.mark.parametrize("type_", ["ContactCard", "CalendarEvent"])
def test_query_follows_namespace_lifecycle_s3_5(s, type_):
    """§3.5: "A namespace-only path matches if the namespace key is present and its value
    is not the empty object {}" — after creates, patches that empty, replace or remove a
    namespace, private writes of two users, AND/OR/NOT, and a destroy."""
    if type_ == "ContactCard":
        _, res = call(s, "AddressBook/get", {"ids": None})
        mk = {"@type": "Card", "version": "1.0", "addressBookIds": {res["list"][0]["id"]: True},
              "name": {"full": "life"}}
    else:
        mk = {"calendarIds": {calendar_id(s): True}, "title": "life",
              "start": "2024-12-15T10:00:00", "duration": "PT1H", "timeZone": "Europe/Paris"}
    ns = "life.example"
    ids = {}
    for key in ("a", "b", "c"):
        _, res = call(s, type_ + "/set", {"create": {key: dict(
            mk, metadata={ns: {"k": key}, "other.example": {"x": 1}})}})
        ids[key] = res["created"][key]["id"]
    a, b, c = ids["a"], ids["b"], ids["c"]

    def q(cond, user="alice"):
        _, res = call(s, type_ + "/query", {"filter": cond}, user=user)
        assert "ids" in res, res
        return set(res["ids"]) & {a, b, c}

    assert q({"metadataExists": ns}) == {a, b, c}
    assert update(s, type_, a, {"metadata/" + ns: {}})["updated"] == {a: None}  # emptied
    assert update(s, type_, b, {"metadata/" + ns + "/k": None})["updated"] == {b: None}
    assert update(s, type_, c, {"metadata": {"other.example": {"y": 2}}})["updated"] == {c: None}
    assert q({"metadataExists": ns}) == set()
    assert q({"metadataExists": "other.example"}) == {a, b, c}
    assert q({"metadataExists": "other.example/x"}) == {a, b}
    update(s, type_, b, {"metadata/" + ns + "/k": "again"})
    assert q({"metadataExists": ns}) == {b}
    assert q({"metadataTextEquals": {"path": ns + "/k", "value": "again"}}) == {b}
    # private: each user's own rows (bob writes, alice sees none of it)
    update(s, type_, a, {"privateMetadata/" + ns: {"mine": "bob"}}, user="bob")
    assert q({"privateMetadataExists": ns}, user="bob") == {a}
    assert q({"privateMetadataExists": ns}) == set()
    assert q({"metadataExists": ns}, user="bob") == {b}
    assert q({"operator": "OR", "conditions": [{"metadataExists": ns},
                                               {"privateMetadataExists": ns}]}, user="bob") == {a, b}
    assert q({"operator": "AND", "conditions": [{"metadataExists": "other.example"},
                                                {"privateMetadataExists": ns}]}, user="bob") == {a}
    assert q({"operator": "NOT", "conditions": [{"metadataExists": ns}]}) == {a, c}
    # a destroyed object leaves the index with its rows
    _, res = call(s, type_ + "/set", {"destroy": [b]})
    assert res["destroyed"] == [b], res
    assert q({"metadataExists": ns}) == set()
    assert q({"metadataExists": "other.example"}) == {a, c}


# ---- §3.5 with expandRecurrences (calendars: each instance is its series') ----------------------

def test_query_expanded_instances_use_series_metadata_s3_5(s):
    """Metadata belongs to the stored event (an instance id is refused by /set), so each
    instance of an expanded query matches with its series' metadata, with or without
    a text condition that makes the server build each instance."""
    rec = {"recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 4}]}
    with_md = new_event(s, "weekly exp", start="2031-03-03T09:00:00", metadata={
        ACME: {"tag": "Standup"}}, privateMetadata={ACME: {"seen": "yes"}}, **rec)
    without = new_event(s, "weekly exp", start="2031-03-03T11:00:00", **rec)
    # an override of one instance keeps the series' metadata
    _, res = call(s, "CalendarEvent/set", {"update": {with_md: {
        "recurrenceOverrides": {"2031-03-10T09:00:00": {"title": "weekly exp moved"}}}}})
    assert not res.get("notUpdated"), res
    assert with_md in (res.get("updated") or {}), res
    window = {"after": "2031-03-01T00:00:00", "before": "2031-04-01T00:00:00"}

    def q(extra, user="alice"):
        _, res = call(s, "CalendarEvent/query", {"filter": dict(window, **extra),
                                                 "expandRecurrences": True,
                                                 "sort": [{"property": "start"}]}, user=user)
        assert "ids" in res, res
        return res["ids"]

    every = q({"title": "weekly exp"})
    assert len(every) == 8, every
    mine = q({"metadataExists": ACME})
    assert len(mine) == 4 and all(i in every for i in mine), mine
    _, got = call(s, "CalendarEvent/get", {"ids": mine, "properties": ["baseEventId", "title"]})
    assert {e["baseEventId"] for e in got["list"]} == {with_md}, got
    assert q({"metadataExists": ACME, "title": "weekly"}) == mine
    assert q({"metadataTextContains": {"path": ACME + "/tag", "value": "standup"}}) == mine
    assert q({"privateMetadataTextEquals": {"path": ACME + "/seen", "value": "yes"}}) == mine
    assert q({"privateMetadataExists": ACME}, user="bob") == []


# ---- §2 and RFC 8620 §5.4: /copy carries metadata as any other property ----------------------

def test_copy_carries_metadata_s2_rfc8620_s5_4(s):
    """The draft names no rule for /copy; §2 says both properties "behave like any other
    property of the related object", and a /copy (RFC 8620 §5.4) copies the record's
    properties, "any other properties included are used instead". So the copy gets the
    shared metadata and the copier's own privateMetadata, through /set's checks."""
    bob = s.account("bob")
    _, res = s.call("Calendar/get", {"accountId": bob, "ids": None}, user="bob", using=USING)
    bcal = res["list"][0]["id"]
    _, res = s.call("CalendarEvent/set", {"accountId": bob, "create": {"e": {
        "calendarIds": {bcal: True}, "title": "to copy", "start": "2026-02-02T10:00:00",
        "metadata": {ACME: {"color": "red"}, "keep.example": {"k": 1}},
        "privateMetadata": {ACME: {"note": "bob's"}}}}}, user="bob", using=USING)
    src = res["created"]["e"]["id"]
    cal = calendar_id(s)
    _, res = s.call("CalendarEvent/copy", {"fromAccountId": bob, "accountId": s.a, "create": {
        "c1": {"id": src, "calendarIds": {cal: True}},
        "c2": {"id": src, "calendarIds": {cal: True}, "uid": "copy-two-" + src,
               "metadata": {ACME: {"color": "blue"}}}}},
        user="bob", using=USING)
    assert set(res.get("created") or {}) == {"c1", "c2"}, res
    c1, c2 = res["created"]["c1"]["id"], res["created"]["c2"]["id"]
    got = {e["id"]: e for e in get(s, "CalendarEvent", [c1, c2], user="bob")["list"]}
    assert got[c1]["metadata"] == {ACME: {"color": "red"}, "keep.example": {"k": 1}}
    assert got[c1]["privateMetadata"] == {ACME: {"note": "bob's"}}
    assert got[c2]["metadata"] == {ACME: {"color": "blue"}}  # given values win
    # bob's private metadata stays his in the target account too
    assert get(s, "CalendarEvent", [c1])["list"][0]["privateMetadata"] == {}
    assert get(s, "CalendarEvent", [c1])["list"][0]["metadata"] == got[c1]["metadata"]
    _, res = call(s, "CalendarEvent/query", {"filter": {"metadataExists": "keep.example"}})
    assert c1 in res["ids"] and c2 not in res["ids"], res
