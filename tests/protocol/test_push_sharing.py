"""Push and sharing (RFC 8620 §7.1 with RFC 9670): a StateChange covers "the accounts to
which the user has access". An EventSource stream opened while a calendar was shared
with the user stops carrying the sharer's account once the share is taken away (and
starts carrying it when one is given), without reconnecting."""

import pytest

import conftest
from alert_util import Alerts
from groupware_util import GroupServer
from test_pg_frontends import front_end_beside
from test_sharing_calendars27 import new_cal, new_event, set_share

READ = {"mayReadFreeBusy": True, "mayReadItems": True}


class Events(Alerts):
    """The StateChanges of one user's stream (alert_util's collector, event "state")."""

    def __init__(self, server, user):
        super().__init__(server, user, types="*", event="state")

    def accounts_within(self, seconds):
        """Every account named by the StateChanges that arrive within seconds."""
        seen = set()
        while True:
            sc = self.next(timeout=seconds)
            if sc is None:
                return seen
            seen |= set(sc["changed"])


@pytest.fixture
def gs():
    s = GroupServer()
    s.a = s.own("alice")
    yield s
    s.close()


def test_revoked_share_leaves_open_streams_rfc8620_s7_1(gs):
    cid = new_cal(gs, "shared", {gs.own("bob"): READ})
    ev = Events(gs, "bob")
    new_event(gs, [cid], "while shared")
    assert gs.a in ev.accounts_within(2.0)
    set_share(gs, cid, None)
    ev.accounts_within(1.0)  # what the revocation itself changed, if anything reached bob
    new_event(gs, [cid], "after the revocation")
    assert gs.a not in ev.accounts_within(2.0)
    # and given again, the same stream carries it again
    set_share(gs, cid, {gs.own("bob"): READ})
    ev.accounts_within(1.0)
    new_event(gs, [cid], "shared again")
    assert gs.a in ev.accounts_within(2.0)
    ev.close()


@pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")
def test_revocation_on_one_front_end_reaches_streams_on_another_rfc8620_s7_1(monkeypatch):
    """RFC 8620 §7.1 across front ends (issue 15 §4): bob's stream is on front end B; the
    share is taken away and given again through A. B's stream stops carrying alice's
    account, pending changes included, and carries it again, without reconnecting
    (the change of who sees what goes over LISTEN/NOTIFY with the states)."""
    a = GroupServer()
    b = front_end_beside(a, monkeypatch)
    ev = None
    try:
        a.a = a.own("alice")
        cid = new_cal(a, "shared across", {a.own("bob"): READ})
        ev = Events(b, "bob")
        new_event(a, [cid], "while shared")
        assert a.a in ev.accounts_within(2.0)
        set_share(a, cid, None)
        ev.accounts_within(1.0)  # what the revocation itself changed, if anything
        new_event(a, [cid], "after the revocation")
        assert a.a not in ev.accounts_within(2.0)
        set_share(a, cid, {a.own("bob"): READ})
        ev.accounts_within(1.0)
        new_event(a, [cid], "shared again")
        assert a.a in ev.accounts_within(2.0)
    finally:
        if ev:
            ev.close()
        b.close()
        a.close()
