"""A sharee's own per-user values of single occurrences (issue 14):
draft-ietf-jmap-calendars-27 §5.4 ("If the user modifies any such properties on a
per-occurrence basis for recurring events then again, these MUST also be stored
per-user"), §4 mayUpdatePrivate ("These properties MUST all be stored per-user, and
changes do not affect any other user of the calendar"): what the sharee names is theirs,
also where it equals the owner's value of the occurrence at the time, and a later change
of the owner's value leaves it as it is."""
import pytest

from groupware_util import GroupServer
from test_sharing_calendars27 import created_id, get, new_cal, new_event, rights, update


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.a = s.own("alice")
    yield s
    s.close()


def overrides(gs, eid, user):
    return get(gs, "CalendarEvent", [eid], user=user)["list"][0].get("recurrenceOverrides") or {}


def test_own_occurrence_value_equal_to_the_owners_survives_calendars27_s5_4(gs):
    c = new_cal(gs, "occ", {gs.own("bob"): rights("mayReadItems", "mayUpdatePrivate")})
    e = created_id(new_event(gs, [c], "daily", recurrenceRule={
        "@type": "RecurrenceRule", "frequency": "daily", "count": 3}))
    r1, r2 = "2026-03-02T10:00:00", "2026-03-03T10:00:00"
    i1, i2 = e + "_20260302T100000", e + "_20260303T100000"
    # the owner's own values of two occurrences
    for inst, kw in ((i1, {"x": True}), (i2, {"y": True})):
        res = update(gs, "CalendarEvent", inst, {"keywords": kw}, user="alice")
        assert inst in (res.get("updated") or {}), res
    # bob names the same values: by the occurrence's id, and by the override's path
    res = update(gs, "CalendarEvent", i1, {"keywords": {"x": True}})
    assert i1 in (res.get("updated") or {}), res
    res = update(gs, "CalendarEvent", e, {f"recurrenceOverrides/{r2}/keywords": {"y": True}})
    assert e in (res.get("updated") or {}), res
    assert overrides(gs, e, "bob")[r1]["keywords"] == {"x": True}
    assert overrides(gs, e, "bob")[r2]["keywords"] == {"y": True}
    # the owner changes hers: bob's stay his
    res = update(gs, "CalendarEvent", i1, {"keywords": {"z": True}}, user="alice")
    assert i1 in (res.get("updated") or {}), res
    res = update(gs, "CalendarEvent", i2, {"keywords": None}, user="alice")
    assert i2 in (res.get("updated") or {}), res
    own = overrides(gs, e, "alice")
    assert own[r1]["keywords"] == {"z": True} and "keywords" not in own.get(r2, {}), own
    mine = overrides(gs, e, "bob")
    assert mine[r1]["keywords"] == {"x": True} and mine[r2]["keywords"] == {"y": True}, mine
    assert get(gs, "CalendarEvent", [i1])["list"][0]["keywords"] == {"x": True}
    # bob resets his value of one occurrence: the default for him, hers unchanged
    res = update(gs, "CalendarEvent", i1, {"keywords": None})
    assert i1 in (res.get("updated") or {}), res
    assert not get(gs, "CalendarEvent", [i1])["list"][0].get("keywords")
    assert "keywords" not in overrides(gs, e, "bob").get(r1, {})
    assert overrides(gs, e, "alice")[r1]["keywords"] == {"z": True}
