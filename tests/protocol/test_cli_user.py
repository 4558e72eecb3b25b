"""`jmapd user add`: what a new user gets, and their calendar address (issue 12 §5).

draft-ietf-jmap-calendars-27 §3: a ParticipantIdentity's calendarAddress is the URI
that represents the user in an event's participants; it becomes the organizer of
every invitation the user sends, so it must be an address that can receive mail.
"""
import re

from conftest import CAL, CONFIG, Server, run_cli


def identities(server, user):
    _, res = server.call("ParticipantIdentity/get", {"accountId": server.account(user)},
                         user=user)
    return res["list"]


def test_user_add_says_what_it_made(tmp_path):
    data = str(tmp_path / "d")
    r = run_cli(data, "user", "add", "zed", "--password-stdin", stdin="pw\n")
    assert r.returncode == 0, r.stderr
    m = re.search(r"added user zed with account (\S+): a default calendar, a default "
                  r"address book and the identity mailto:zed@localhost", r.stdout)
    assert m, r.stdout
    gen = run_cli(data, "user", "add", "yan", "--email", "yan@example.org")
    assert gen.returncode == 0
    lines = gen.stdout.splitlines()
    assert lines[0].startswith("password: ") and "mailto:yan@example.org" in lines[1]


def test_user_add_refuses_an_address_that_is_none(tmp_path):
    data = str(tmp_path / "d")
    for bad in ["nope", "a@", "@b", "a b@example.org", "a@b@c", "<a@b>"]:
        r = run_cli(data, "user", "add", "zed", "--email", bad)
        assert r.returncode == 1 and "--email" in r.stderr, bad
    assert run_cli(data, "user", "list").stdout.split() == []  # nothing was created


def test_calendar_address_from_email_domain_or_name_calendars_s3():
    s = Server(config=CONFIG + "default_domain = example.net\n",
               users={"alice": "alice-pw", "bob": "bob-pw"},
               user_args={"alice": ["--email", "mailto:Alice.Smith@example.com"]})
    try:
        (a,) = identities(s, "alice")
        assert a["calendarAddress"] == "mailto:Alice.Smith@example.com"
        assert a["name"] == "alice" and a["isDefault"] is True
        (b,) = identities(s, "bob")
        assert b["calendarAddress"] == "mailto:bob@example.net"
    finally:
        s.close()


def test_default_domain_is_localhost(server):
    (a,) = identities(server, "alice")
    assert a["calendarAddress"] == "mailto:alice@localhost"
    assert CAL in server.session()["capabilities"]
