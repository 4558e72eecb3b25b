"""Real DAV clients from Debian against jmapd (issue 20 "Real clients in the
tests"): python3-caldav (discovery, calendar-query with expand, sync tokens) and
vdirsyncer (two-way sync of a calendar and an address book: create, change and
delete on each side, a conflict, 1,000 items), each checked against what JMAP
sees of the same account."""
import datetime
import glob
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import CORE, Server
from davutil import ics, unfold, vcf

caldav = pytest.importorskip("caldav")
CONTACTS = "urn:ietf:params:jmap:contacts"
TASKS = "urn:ietf:params:jmap:tasks"
VDIRSYNCER = shutil.which("vdirsyncer")


@pytest.fixture(scope="module")
def srv():
    s = Server()
    yield s
    s.close()


def titles(server):
    acct = server.account()
    _, res = server.call("CalendarEvent/get", {"accountId": acct})
    return {e["uid"]: e["title"] for e in res["list"]}


def card_names_of(server, acct, user="bob"):
    _, res = server.call("ContactCard/get", {"accountId": acct}, using=[CORE, CONTACTS],
                         user=user)
    return {c["uid"]: c.get("name", {}).get("full") for c in res["list"]}


# ---- python3-caldav ---------------------------------------------------------------------------

def test_python_caldav_discovery_expand_and_sync(srv):
    client = caldav.DAVClient(url=srv.base + "/", username="alice", password="alice-pw")
    principal = client.principal()  # PROPFIND / -> current-user-principal -> home set
    assert principal.url.path == "/dav/principals/alice/"
    # the default calendar and the default task list (a VTODO collection)
    assert sorted(c.name for c in principal.calendars()) == ["Calendar", "Tasks"]
    cal = principal.make_calendar(name="Client Cal")  # MKCALENDAR + PROPPATCH displayname
    assert "Client Cal" in [c.name for c in principal.calendars()]
    uid = f"caldav-{uuid.uuid4()}"
    cal.save_event(ics(uid, "Weekly", "20260105T090000Z", rrule="FREQ=WEEKLY;COUNT=10"))
    assert titles(srv)[uid] == "Weekly"  # the DAV write is a JMAP object
    found = cal.search(start=datetime.datetime(2026, 1, 10), end=datetime.datetime(2026, 1, 25),
                       event=True, expand=True)
    rids = sorted(unfold(f.data).split("RECURRENCE-ID:")[1][:16] for f in found)
    assert rids == ["20260112T090000Z", "20260119T090000Z"]
    col = cal.objects_by_sync_token(load_objects=False)
    assert len(list(col)) == 1
    token = col.sync_token
    uid2 = f"caldav-{uuid.uuid4()}"
    cal.save_event(ics(uid2, "Second", "20260301T090000Z"))
    updated, deleted = col.sync()
    assert [o.url.path.rsplit("/", 1)[1] for o in updated] == [uid2.replace("@", "%40") + ".ics"]
    assert col.sync_token != token
    # a change made over JMAP is seen by the next sync
    acct = srv.account()
    _, res = srv.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": uid2}})
    srv.call("CalendarEvent/set", {"accountId": acct, "destroy": res["ids"]})
    updated, deleted = col.sync()
    assert len(list(deleted)) == 1


# ---- vdirsyncer --------------------------------------------------------------------------------

CONFIG = """[general]
status_path = "{t}/status/"

[pair cal]
a = "cal_local"
b = "cal_remote"
collections = ["from b"]
conflict_resolution = "b wins"

[storage cal_local]
type = "filesystem"
path = "{t}/cal/"
fileext = ".ics"

[storage cal_remote]
type = "caldav"
url = "{base}/"
username = "{user}"
password = "{pw}"

[pair card]
a = "card_local"
b = "card_remote"
collections = ["from b"]
conflict_resolution = "b wins"

[storage card_local]
type = "filesystem"
path = "{t}/card/"
fileext = ".vcf"

[storage card_remote]
type = "carddav"
url = "{base}/"
username = "{user}"
password = "{pw}"
"""


class Vdir:
    def __init__(self, server, user="bob", pw="bob-pw"):
        self.tmp = tempfile.mkdtemp()
        with open(os.path.join(self.tmp, "config"), "w") as f:
            f.write(CONFIG.format(t=self.tmp, base=server.base, user=user, pw=pw))
        self.env = dict(os.environ, VDIRSYNCER_CONFIG=os.path.join(self.tmp, "config"))

    def run(self, *args):
        r = subprocess.run([VDIRSYNCER, *os.environ.get("VDIR_FLAGS", "").split(), *args], input="y\n" * 8, capture_output=True, text=True,
                           env=self.env, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        return r

    def dir(self, kind, name=None):
        (d,) = glob.glob(os.path.join(self.tmp, kind, name or "*"))
        return d

    def files(self, kind, name=None):
        out = {}
        for p in glob.glob(os.path.join(self.dir(kind, name), "*")):
            with open(p) as f:
                out[os.path.basename(p)] = unfold(f.read())
        return out


def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return None


@pytest.mark.skipif(not VDIRSYNCER, reason="vdirsyncer is not installed (scripts/deps.sh test)")
def test_vdirsyncer_two_way_calendar_and_addressbook():
    server = Server()  # its own server: bob's own account, nothing else in it
    try:
        v = Vdir(server)
        acct = server.account("bob")
        _, cals = server.call("Calendar/get", {"accountId": acct}, user="bob")
        cal_id = cals["list"][0]["id"]
        # server side (JMAP) creates one event; the client side creates an event and a card
        jmap_uid = f"jmap-{uuid.uuid4()}"
        server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
            "calendarIds": {cal_id: True}, "uid": jmap_uid, "title": "From JMAP",
            "start": "2026-04-01T10:00:00", "duration": "PT1H"}}}, user="bob")
        v.run("discover")
        v.run("sync")
        cal_files = v.files("cal", cal_id)
        assert [field(t, "SUMMARY") for t in cal_files.values()] == ["From JMAP"]
        local_uid = f"local-{uuid.uuid4()}"
        with open(os.path.join(v.dir("cal", cal_id), local_uid + ".ics"), "w") as f:
            f.write(ics(local_uid, "From vdirsyncer"))
        for name in ("Vera Dirsync", "Kept Card"):  # vdirsyncer refuses to empty a side
            card_uid = f"card-{uuid.uuid4()}"
            with open(os.path.join(v.dir("card"), card_uid + ".vcf"), "w") as f:
                f.write(vcf(card_uid, name))
        v.run("sync")
        t = {}
        _, got = server.call("CalendarEvent/get", {"accountId": acct}, user="bob")
        t = {e["uid"]: e["title"] for e in got["list"]}
        assert t == {jmap_uid: "From JMAP", local_uid: "From vdirsyncer"}
        _, cards = server.call("ContactCard/get", {"accountId": acct}, user="bob",
                               using=[CORE, CONTACTS])
        assert sorted(c["name"]["full"] for c in cards["list"]) == ["Kept Card", "Vera Dirsync"]
        vera = [c["id"] for c in cards["list"] if c["name"]["full"] == "Vera Dirsync"]
        # change on each side
        local_path = os.path.join(v.dir("cal", cal_id), local_uid + ".ics")
        with open(local_path, "w") as f:
            f.write(ics(local_uid, "Changed locally"))
        jmap_id = [e["id"] for e in got["list"] if e["uid"] == jmap_uid][0]
        server.call("CalendarEvent/set", {"accountId": acct, "update": {
            jmap_id: {"title": "Changed over JMAP"}}}, user="bob")
        v.run("sync")
        _, got = server.call("CalendarEvent/get", {"accountId": acct}, user="bob")
        assert {e["uid"]: e["title"] for e in got["list"]} == {
            jmap_uid: "Changed over JMAP", local_uid: "Changed locally"}
        assert sorted(field(x, "SUMMARY") for x in v.files("cal", cal_id).values()) == [
            "Changed locally", "Changed over JMAP"]
        # a conflict: both sides change the same event; "b wins" keeps the server's
        with open(local_path, "w") as f:
            f.write(ics(local_uid, "Local side of conflict"))
        local_id = [e["id"] for e in got["list"] if e["uid"] == local_uid][0]
        server.call("CalendarEvent/set", {"accountId": acct, "update": {
            local_id: {"title": "Server side of conflict"}}}, user="bob")
        v.run("sync")
        assert sorted(field(x, "SUMMARY") for x in v.files("cal", cal_id).values()) == [
            "Changed over JMAP", "Server side of conflict"]
        # delete on each side
        os.remove(local_path)
        server.call("ContactCard/set", {"accountId": acct, "destroy": vera},
                    user="bob", using=[CORE, CONTACTS])
        try:
            v.run("sync")
        except AssertionError:
            print(server.read_log()[-5000:])
            raise
        _, got = server.call("CalendarEvent/get", {"accountId": acct}, user="bob")
        assert [e["uid"] for e in got["list"]] == [jmap_uid]
        assert [field(x, "FN") for x in v.files("card").values()] == ["Kept Card"]
        # a card changed on the client side reaches JMAP
        (kept,) = glob.glob(os.path.join(v.dir("card"), "*.vcf"))
        with open(kept) as f:
            text = f.read()
        with open(kept, "w") as f:
            f.write(text.replace("FN:Kept Card", "FN:Kept And Changed"))
        v.run("sync")
        assert list(card_names_of(server, acct).values()) == ["Kept And Changed"]
        # a VTODO written on the client side into the task list is a JMAP Task
        _, lists = server.call("TaskList/get", {"accountId": acct}, user="bob",
                               using=[CORE, TASKS])
        tl = lists["list"][0]["id"]
        todo_uid = f"todo-{uuid.uuid4()}"
        with open(os.path.join(v.dir("cal", tl), todo_uid + ".ics"), "w") as f:
            f.write("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN",
                                  "BEGIN:VTODO", f"UID:{todo_uid}", "DTSTAMP:20260101T000000Z",
                                  "SUMMARY:Water plants", "END:VTODO", "END:VCALENDAR", ""]))
        v.run("sync")
        _, tasks = server.call("Task/get", {"accountId": acct}, user="bob", using=[CORE, TASKS])
        assert [t["title"] for t in tasks["list"] if t["uid"] == todo_uid] == ["Water plants"]
        # 1,000 items from the client side, then all seen over JMAP and synced back
        for i in range(1000):
            u = f"bulk-{i}-{uuid.uuid4()}"
            with open(os.path.join(v.dir("cal", cal_id), u + ".ics"), "w") as f:
                f.write(ics(u, f"Bulk {i}", f"202605{1 + i % 28:02d}T{i % 24:02d}0000Z"))
        v.run("sync")
        _, ids = server.call("CalendarEvent/query", {"accountId": acct, "limit": 2000},
                             user="bob")
        assert len(ids["ids"]) == 1001
        v.run("sync")
        assert len(v.files("cal", cal_id)) == 1001
    finally:
        server.close()
