"""khal and todoman against jmapd (issue 20 "Real clients in the tests": khal/todoman
reading what was written through JMAP). Both are Debian's command-line clients of a
local vdir (RFC 4791 calendar objects, one .ics file per resource) that vdirsyncer keeps
in sync with the server over CalDAV (RFC 4791 §5.3.2 PUT, §5.3.4 DELETE with If-Match,
RFC 6578 sync-collection); what each writes reaches JMAP, what JMAP writes reaches them."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

from conftest import CORE, Server
from test_dav_clients import Vdir

TASKS = "urn:ietf:params:jmap:tasks"
KHAL = shutil.which("khal")
TODOMAN = shutil.which("todoman")
pytestmark = pytest.mark.skipif(
    not (KHAL and TODOMAN and Vdir and shutil.which("vdirsyncer")),
    reason="khal, todoman or vdirsyncer is not installed (scripts/deps.sh test)")

KHAL_CONF = """[calendars]
[[jmapd]]
path = {cal}
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
[default]
default_calendar = jmapd
[sqlite]
path = {tmp}/khal.db
"""

TODO_CONF = """path = "{tasks}"
cache_path = "{tmp}/todoman.db"
date_format = "%Y-%m-%d"
time_format = "%H:%M"
default_list = "{name}"
default_due = 0
"""


class Clients:
    """khal on the synced calendar, todoman on the synced task list."""

    def __init__(self, v, cal_dir, task_dir):
        self.tmp = v.tmp
        self.khal_conf = os.path.join(v.tmp, "khal.conf")
        self.todo_conf = os.path.join(v.tmp, "todoman.py")
        with open(self.khal_conf, "w") as f:
            f.write(KHAL_CONF.format(cal=cal_dir, tmp=v.tmp))
        with open(self.todo_conf, "w") as f:
            f.write(TODO_CONF.format(tasks=task_dir, tmp=v.tmp,
                                     name=os.path.basename(task_dir)))
        self.env = dict(os.environ, HOME=v.tmp, TZ="UTC", LANG="C.UTF-8")

    def _run(self, argv, stdin=""):
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=self.env,
                           timeout=120)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
        return r.stdout

    def khal(self, *args, stdin=""):
        return self._run([KHAL, "-c", self.khal_conf, *args], stdin)

    def khal_titles(self):
        out = self.khal("list", "--format", "{title}", "2026-12-01", "30d")
        return sorted(line for line in out.splitlines() if line and "2026" not in line)

    def todo(self, *args, stdin=""):
        return self._run([TODOMAN, "-c", self.todo_conf, *args], stdin)

    def todos(self):
        """summary -> todoman's id and completion, of every task (done ones too)."""
        out = json.loads(self.todo("--porcelain", "list", "--status", "ANY"))
        return {t["summary"]: t for t in out}


def jmap_events(server, acct):
    _, got = server.call("CalendarEvent/get", {"accountId": acct}, user="bob")
    return {e["title"]: e for e in got["list"]}


def jmap_tasks(server, acct):
    _, got = server.call("Task/get", {"accountId": acct}, user="bob", using=[CORE, TASKS])
    return {t["title"]: t for t in got["list"]}


def test_rfc4791_5_3_khal_and_todoman_create_edit_delete_through_vdirsyncer():
    server = Server()  # bob's own account, nothing else in it
    try:
        v = Vdir(server)
        acct = server.account("bob")
        _, cals = server.call("Calendar/get", {"accountId": acct}, user="bob")
        cal_id = cals["list"][0]["id"]
        _, lists = server.call("TaskList/get", {"accountId": acct}, user="bob",
                               using=[CORE, TASKS])
        tl = lists["list"][0]["id"]
        # written through JMAP: an event and two tasks
        server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
            "calendarIds": {cal_id: True}, "uid": f"jmap-{uuid.uuid4()}",
            "title": "From JMAP", "start": "2026-12-10T09:00:00", "timeZone": "Etc/UTC",
            "duration": "PT1H"}}}, user="bob")
        server.call("Task/set", {"accountId": acct, "create": {
            "t1": {"taskListId": tl, "uid": f"jt1-{uuid.uuid4()}", "title": "Task from JMAP"},
            "t2": {"taskListId": tl, "uid": f"jt2-{uuid.uuid4()}", "title": "Doomed task"}}},
            user="bob", using=[CORE, TASKS])
        v.run("discover")
        v.run("sync")
        c = Clients(v, v.dir("cal", cal_id), v.dir("cal", tl))
        # khal and todoman read what JMAP wrote
        assert c.khal_titles() == ["From JMAP"]
        todos = c.todos()
        assert sorted(todos) == ["Doomed task", "Task from JMAP"]
        # each client creates, edits and deletes
        c.khal("new", "-a", "jmapd", "2026-12-12", "14:00", "15:00", "Made in khal")
        c.khal("edit", "From JMAP", stdin="s\nEdited in khal\nn\n")
        assert c.khal_titles() == ["Edited in khal", "Made in khal"]
        c.todo("new", "-l", os.path.basename(v.dir("cal", tl)), "Made in todoman")
        c.todo("done", str(todos["Task from JMAP"]["id"]))
        c.todo("delete", "--yes", str(todos["Doomed task"]["id"]))
        v.run("sync")
        events = jmap_events(server, acct)
        assert sorted(events) == ["Edited in khal", "Made in khal"]
        assert events["Made in khal"]["start"] == "2026-12-12T14:00:00"
        tasks = jmap_tasks(server, acct)
        assert sorted(tasks) == ["Made in todoman", "Task from JMAP"]
        assert tasks["Task from JMAP"]["progress"] == "completed"
        assert tasks["Made in todoman"]["progress"] != "completed"
        # khal deletes (its edit dialogue's [D]elete), JMAP changes: both seen on the
        # other side after the next sync
        c.khal("edit", "Made in khal", stdin="D\ny\n")
        server.call("CalendarEvent/set", {"accountId": acct, "update": {
            events["Edited in khal"]["id"]: {"title": "Renamed over JMAP"}}}, user="bob")
        server.call("Task/set", {"accountId": acct, "update": {
            tasks["Made in todoman"]["id"]: {"title": "Renamed task"}}},
            user="bob", using=[CORE, TASKS])
        v.run("sync")
        assert sorted(jmap_events(server, acct)) == ["Renamed over JMAP"]
        assert c.khal_titles() == ["Renamed over JMAP"]
        assert sorted(c.todos()) == ["Renamed task", "Task from JMAP"]
    finally:
        server.close()
