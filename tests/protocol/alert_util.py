"""Helpers for the alert suites (issue 14 point 5, draft-ietf-jmap-calendars-27 §6): a
GroupServer started in test mode with a test clock (JMAPD_TEST_CLOCK names a file
holding the server's time for alerts), a CalendarAlert listener on the event
source (§6.4), and the fixtures `cs` (a clock server with alice's account in `.a`) and
`mail` (the same, sending mail through an SMTP relay on loopback: (server, relay))."""
import json
import os
import queue
import socket
import tempfile
import threading
import time

import pytest

from conftest import CONFIG
from groupware_util import GroupServer
from smtp_util import SmtpRelay
from test_push import Stream, es_url


class ClockServer(GroupServer):
    def __init__(self, start="2026-03-01T08:00:00Z", **kw):
        self.clock_dir = tempfile.TemporaryDirectory()
        self.clock = os.path.join(self.clock_dir.name, "clock")
        self.set_time(start)
        super().__init__(**kw)

    def set_time(self, t):
        tmp = self.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write(t + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.clock)

    def start(self):
        old = os.environ.get("JMAPD_TEST_CLOCK")
        os.environ["JMAPD_TEST_CLOCK"] = self.clock
        try:
            super().start()
        finally:
            if old is None:
                del os.environ["JMAPD_TEST_CLOCK"]
            else:
                os.environ["JMAPD_TEST_CLOCK"] = old

    def close(self):
        super().close()
        self.clock_dir.cleanup()


class Alerts:
    """The calendarAlert events (or those named `event`) of one user's event source,
    collected by a thread."""

    def __init__(self, server, user, types="CalendarAlert", event="calendarAlert"):
        self.event = event
        self.stream = Stream.__new__(Stream)
        self.stream.r = server.http(user).get(es_url(server, types=types), stream=True,
                                              timeout=(5, 300))
        self.stream.lines = self.stream.r.iter_lines(decode_unicode=True)
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            while True:
                ev = self.stream.event()
                if ev is None:
                    return
                if ev[0] == self.event:
                    self.q.put(json.loads(ev[1]))
        except Exception:  # the stream was closed
            return

    def next(self, timeout=8):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def none_within(self, seconds=1.5):
        return self.next(timeout=seconds) is None

    def close(self):
        # the reading thread holds the response: end the connection under it
        try:
            self.stream.r.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.t.join(timeout=5)
        self.stream.close()


def wait_until(pred, timeout=8):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def offset_alert(offset, action=None, relative=None):
    """An Alert with an OffsetTrigger (jscalendarbis-17 §4.5.1)."""
    trig = {"@type": "OffsetTrigger", "offset": offset}
    if relative:
        trig["relativeTo"] = relative
    a = {"@type": "Alert", "trigger": trig}
    if action:
        a["action"] = action
    return a


def alice_address(s):
    """Where alice's email alerts go: her principal's email (calendars-27 §9.3.2)."""
    _, res = s.c("Principal/get", {"accountId": s.a, "ids": [s.a]})
    return res["list"][0]["email"]


@pytest.fixture
def cs():
    s = ClockServer()
    s.a = s.own("alice")
    yield s
    s.close()


@pytest.fixture
def mail():
    relay = SmtpRelay()
    s = ClockServer(config=CONFIG + relay.config)
    s.a = s.own("alice")
    yield s, relay
    s.close()
    relay.stop()
