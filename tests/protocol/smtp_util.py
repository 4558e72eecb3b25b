"""An SMTP relay on loopback for the suites that send mail (iMIP RFC 6047, email
alerts calendars-27 §6): Debian's python3-aiosmtpd started by the test; each message
received is kept as (MAIL FROM, [RCPT TO...], text) so tests can parse it. Nothing
leaves the machine."""
import pytest

from conftest import free_port


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.content.decode()))
        return "250 OK"


class SmtpRelay:
    """A started relay (on `port`, or a free one): `.messages`, `.config` (the jmapd lines
    that send through it), `.stop()`. Skips the test when python3-aiosmtpd is missing."""

    def __init__(self, extra_config="", port=None):
        ctl_mod = pytest.importorskip("aiosmtpd.controller")
        self.sink = Sink()
        self.messages = self.sink.messages
        port = port or free_port()
        self.ctl = ctl_mod.Controller(self.sink, hostname="127.0.0.1", port=port)
        self.ctl.start()
        self.config = f"smtp_url = smtp://127.0.0.1:{port}\n" + extra_config

    def stop(self):
        self.ctl.stop()
