"""Push and sharing (RFC 8620 §7.1 with RFC 9670): a StateChange covers "the accounts to
which the user has access". An EventSource stream opened while a calendar was shared
with the user stops carrying the sharer's account once the share is taken away (and
starts carrying it when one is given), without reconnecting."""
import json
import queue
import threading

import pytest

from groupware_util import GroupServer
from test_push import Stream, es_url
from test_sharing_calendars27 import new_cal, new_event, set_share

READ = {"mayReadFreeBusy": True, "mayReadItems": True}


class Events:
    """The StateChanges of one stream, collected by a thread."""

    def __init__(self, server, user):
        self.stream = Stream(server, es_url(server), user=user)
        self.q = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while True:
                ev = self.stream.event()
                if ev is None:
                    return
                if ev[0] == "state":
                    self.q.put(json.loads(ev[1]))
        except Exception:  # closed under the thread
            return

    def accounts_within(self, seconds):
        """Every account named by the StateChanges that arrive within seconds."""
        seen = set()
        try:
            while True:
                seen |= set(self.q.get(timeout=seconds)["changed"])
        except queue.Empty:
            return seen


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
    ev.stream.close()
