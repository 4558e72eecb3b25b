"""draft-ietf-jmap-tasks-06: the urn:ietf:params:jmap:tasks capability (§1.5), TaskList
(§4) and Task (§5) on the standard methods of RFC 8620 §5, with the JSCalendar 2.0 Task
of jscalendarbis-17 §5.2. Where the draft defers to calendars, the tests follow
draft-ietf-jmap-calendars-27 (docs/tasks.md)."""
import pytest

from conftest import CORE

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, TASKS]


def call(server, name, args, user="alice"):
    return server.call(name, args, user=user, using=USING)


def inbox(server, acct, user="alice"):
    out = call(server, "TaskList/get", {"accountId": acct, "ids": None}, user)[1]
    return [t for t in out["list"] if t["role"] == "inbox"][0]


def create_task(server, acct, list_id, **props):
    task = {"@type": "Task", "taskListId": list_id, "title": "a task"}
    task.update(props)
    name, out = call(server, "Task/set", {"accountId": acct, "create": {"t": task}})
    assert name == "Task/set", out
    assert "t" in (out["created"] or {}), out
    return out["created"]["t"]


def set_error(server, acct, task):
    name, out = call(server, "Task/set", {"accountId": acct, "create": {"t": task}})
    assert name == "Task/set", out
    return (out["notCreated"] or {}).get("t")


@pytest.fixture(scope="module")
def tacct(server):
    return server.session()["primaryAccounts"][TASKS]


def test_capability_and_account_values_tasks06_1_5(server, tacct):
    s = server.session()
    assert TASKS in s["capabilities"]
    value = s["accounts"][tacct]["accountCapabilities"][TASKS]
    assert value["mayCreateTaskList"] is True
    assert isinstance(value["minDateTime"], str) and isinstance(value["maxDateTime"], str)
    # assignees with scheduling (§1.5.3; test_tasks_assignees.py)
    assert s["accounts"][tacct]["accountCapabilities"][TASKS + ":assignees"] == {
        "maxParticipantsPerTask": 1000}
    rec = s["accounts"][tacct]["accountCapabilities"][TASKS + ":recurrences"]
    assert rec["maxExpandedQueryDuration"] == "P400D"


def test_default_inbox_task_list_tasks06_4(server, tacct):
    lst = inbox(server, tacct)
    assert lst["name"] and lst["sortOrder"] == 0 and lst["isSubscribed"] is True
    assert lst["workflowStatuses"] == ["completed", "failed", "in-process", "needs-action",
                                       "cancelled", "pending"]
    assert lst["shareWith"] is None and lst["timeZone"] is None and lst["color"] is None
    rights = lst["myRights"]
    for k in ("mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate", "mayRSVP",
              "mayAdmin", "mayDelete"):
        assert rights[k] is True, k


def test_task_list_set_and_changes_tasks06_4_3(server, tacct):
    state = call(server, "TaskList/get", {"accountId": tacct, "ids": []})[1]["state"]
    name, out = call(server, "TaskList/set", {"accountId": tacct, "create": {
        "w": {"name": "Work", "color": "#ff0000", "workflowStatuses": ["done", "not-done"],
              "keywordColors": {"urgent": "red"}}}})
    lid = out["created"]["w"]["id"]
    assert out["created"]["w"]["myRights"]["mayAdmin"] is True
    out = call(server, "TaskList/changes", {"accountId": tacct, "sinceState": state})[1]
    assert out["created"] == [lid]
    # validation: colours, roles, sortOrder, empty workflow list, name
    bad = {"c1": {"name": "x", "color": "not a colour"},
           "c2": {"name": "x", "role": "inbox"},          # one inbox per account
           "c3": {"name": "x", "sortOrder": -1},
           "c4": {"name": "x", "workflowStatuses": []},
           "c5": {"name": ""},
           "c6": {"name": "x", "role": "archive"}}
    out = call(server, "TaskList/set", {"accountId": tacct, "create": bad})[1]
    for cid, prop in (("c1", "color"), ("c2", "role"), ("c3", "sortOrder"),
                      ("c4", "workflowStatuses"), ("c5", "name"), ("c6", "role")):
        err = out["notCreated"][cid]
        assert err["type"] == "invalidProperties" and prop in err["properties"], (cid, err)


def test_task_create_get_defaults_tasks06_5_1(server, tacct):
    lid = inbox(server, tacct)["id"]
    created = create_task(server, tacct, lid, title="Buy walnuts", due="2026-12-24T12:00:00",
                          timeZone="Europe/Berlin", estimatedWork=3, impact="major",
                          priority=1)
    tid = created["id"]
    assert created["uid"] and created["created"] and created["updated"]
    assert created["isOrigin"] is True
    out = call(server, "Task/get", {"accountId": tacct, "ids": [tid]})[1]
    t = out["list"][0]
    assert t["@type"] == "Task" and t["taskListId"] == lid and t["isDraft"] is False
    assert t["sortOrder"] == 0 and t["workflowStatus"] is None
    assert t["title"] == "Buy walnuts" and t["due"] == "2026-12-24T12:00:00"
    assert t["estimatedWork"] == 3 and t["impact"] == "major"
    assert "utcDue" not in t  # only when asked for (§5.1)
    out = call(server, "Task/get", {"accountId": tacct, "ids": [tid],
                                    "properties": ["utcDue", "utcStart", "baseTaskId"]})[1]
    t = out["list"][0]
    assert t == {"id": tid, "utcDue": "2026-12-24T11:00:00Z", "utcStart": None,
                 "baseTaskId": None}


def test_task_utc_due_on_set_tasks06_5_1(server, tacct):
    lid = inbox(server, tacct)["id"]
    tid = create_task(server, tacct, lid, utcDue="2026-07-01T08:30:00Z")["id"]
    t = call(server, "Task/get", {"accountId": tacct, "ids": [tid]})[1]["list"][0]
    assert t["due"] == "2026-07-01T08:30:00" and t["timeZone"] == "Etc/UTC"


def test_task_invalid_properties_issue16_bad_input(server, tacct):
    lid = inbox(server, tacct)["id"]
    cases = [({"duration": "PT1H"}, "duration"),            # an Event property
             ({"status": "confirmed"}, "status"),
             ({"percentComplete": 101}, "percentComplete"),
             ({"progress": 7}, "progress"),
             ({"taskListId": "lnope"}, "taskListId"),
             ({"@type": "Event"}, "@type"),
             ({"workflowStatus": "archived"}, "workflowStatus"),
             ({"workflowStatus": "pending", "progress": "completed"}, "progress"),
             ({"sortOrder": 2 ** 31}, "sortOrder"),
             ({"estimatedWork": -1}, "estimatedWork"),
             ({"checklists": {"c1": {"@type": "Checklist", "checkItems": [{"title": "x"}]}}},
              "checklists/c1"),
             ({"comments": {"m1": {"@type": "Comment"}}}, "comments/m1"),
             ({"method": "request"}, "method")]
    for props, prop in cases:
        task = {"@type": "Task", "taskListId": lid, "title": "bad"}
        task.update(props)
        err = set_error(server, tacct, task)
        assert err and err["type"] == "invalidProperties", (props, err)
        assert prop in err["properties"], (props, err)
        assert err.get("description"), err


def test_task_checklists_and_comments_tasks06_5_2(server, tacct):
    lid = inbox(server, tacct)["id"]
    checklists = {"cl1": {"@type": "Checklist", "title": "Steps", "checkItems": [
        {"@type": "CheckItem", "title": "find shop", "isComplete": True, "sortOrder": 1,
         "assignee": {"@type": "Person", "name": "Bob", "uri": "mailto:bob@example.com"}},
        {"@type": "CheckItem", "title": "pay", "isComplete": False}]}}
    comments = {"m1": {"@type": "Comment", "message": "remember the receipt",
                       "created": "2026-01-02T03:04:05Z",
                       "author": {"@type": "Person", "principalId": "p1"}}}
    tid = create_task(server, tacct, lid, checklists=checklists, comments=comments,
                      relatedTo={"8e0d5d0a-1ad5-4b0c-9b3a-6f0b2b8f1e11": {
                          "@type": "Relation", "relation": {"depends-on": True}}})["id"]
    t = call(server, "Task/get", {"accountId": tacct, "ids": [tid]})[1]["list"][0]
    assert t["checklists"] == checklists and t["comments"] == comments
    assert t["relatedTo"]["8e0d5d0a-1ad5-4b0c-9b3a-6f0b2b8f1e11"]["relation"] == {
        "depends-on": True}


def test_task_update_sequence_and_draft_rules_tasks06_5_1(server, tacct):
    lid = inbox(server, tacct)["id"]
    tid = create_task(server, tacct, lid, isDraft=True)["id"]
    out = call(server, "Task/set", {"accountId": tacct, "update": {
        tid: {"title": "renamed", "isDraft": False}}})[1]
    assert tid in out["updated"], out
    t = call(server, "Task/get", {"accountId": tacct, "ids": [tid]})[1]["list"][0]
    assert t["title"] == "renamed" and t["sequence"] == 1 and t["isDraft"] is False
    # isDraft may not become true again
    out = call(server, "Task/set", {"accountId": tacct, "update": {tid: {"isDraft": True}}})[1]
    assert out["notUpdated"][tid]["type"] == "invalidProperties"
    # keywords are per-user: no new sequence
    out = call(server, "Task/set", {"accountId": tacct, "update": {
        tid: {"keywords": {"home": True}}}})[1]
    assert tid in out["updated"], out
    t = call(server, "Task/get", {"accountId": tacct, "ids": [tid]})[1]["list"][0]
    assert t["sequence"] == 1 and t["keywords"] == {"home": True}
    # the uid never changes
    out = call(server, "Task/set", {"accountId": tacct, "update": {tid: {"uid": "other"}}})[1]
    assert out["notUpdated"][tid]["type"] == "invalidProperties"


def test_task_uid_unique_in_account_tasks06_5_1(server, tacct):
    lid = inbox(server, tacct)["id"]
    create_task(server, tacct, lid, uid="same-uid-task")
    err = set_error(server, tacct, {"@type": "Task", "taskListId": lid, "title": "dup",
                                    "uid": "same-uid-task"})
    assert err and err["type"] in ("alreadyExists", "invalidProperties"), err


def test_task_workflow_status_tasks06_5_1(server, tacct):
    name, out = call(server, "TaskList/set", {"accountId": tacct, "create": {
        "b": {"name": "Board", "workflowStatuses": ["todo", "doing", "done"]}}})
    lid = out["created"]["b"]["id"]
    tid = create_task(server, tacct, lid, workflowStatus="doing")["id"]
    t = call(server, "Task/get", {"accountId": tacct, "ids": [tid]})[1]["list"][0]
    assert t["workflowStatus"] == "doing"
    err = set_error(server, tacct, {"@type": "Task", "taskListId": lid, "title": "x",
                                    "workflowStatus": "completed"})
    assert "workflowStatus" in err["properties"]


def test_task_query_filters_and_sorts_tasks06_5_8(fresh_server):
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    name, out = call(server, "TaskList/set", {"accountId": acct, "create": {
        "o": {"name": "Other"}}})
    other = out["created"]["o"]["id"]
    a = create_task(server, acct, lid, title="Walnut cake", due="2026-03-01T10:00:00",
                    priority=2, progress="completed", keywords={"food": True})["id"]
    b = create_task(server, acct, lid, title="Tax return", due="2026-04-30T23:00:00",
                    priority=1, description="walnut receipts inside")["id"]
    c = create_task(server, acct, other, title="Call mum", sortOrder=5)["id"]

    def q(filter=None, sort=None):
        args = {"accountId": acct}
        if filter is not None:
            args["filter"] = filter
        if sort is not None:
            args["sort"] = sort
        name, out = call(server, "Task/query", args)
        assert name == "Task/query", out
        return out["ids"]

    assert sorted(q()) == sorted([a, b, c])
    assert set(q({"inTaskLists": [lid]})) == {a, b}
    assert q({"inTaskLists": [other]}) == [c]
    assert set(q({"text": "WALNUT"})) == {a, b}
    assert q({"title": "walnut"}) == [a]
    assert q({"progress": "completed"}) == [a]
    assert set(q({"progress": "needs-action"})) == {b, c}
    assert q({"keyword": "food"}) == [a]
    assert q({"after": "2026-04-01T00:00:00Z"}) == [b]
    assert q({"before": "2026-04-01T00:00:00Z"}) == [a]
    assert q({"operator": "NOT", "conditions": [{"inTaskLists": [lid]}]}) == [c]
    assert q(sort=[{"property": "due"}]) == [a, b, c]          # no due: last
    assert q(sort=[{"property": "priority"}]) == [b, a, c]     # 1 before 2, none last
    assert q(sort=[{"property": "title", "isAscending": False}]) == [a, b, c]
    name, out = call(server, "Task/query", {"accountId": acct, "filter": {"nope": 1}})
    assert name == "error" and out["type"] == "unsupportedFilter"
    name, out = call(server, "Task/query", {"accountId": acct, "sort": [{"property": "x"}]})
    assert name == "error" and out["type"] == "unsupportedSort"
    name, out = call(server, "Task/query", {"accountId": acct, "filter": {"after": "soon"}})
    assert name == "error" and out["type"] == "invalidArguments"


def test_task_query_changes_rfc8620_5_6(fresh_server):
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    a = create_task(server, acct, lid, title="one")["id"]
    out = call(server, "Task/query", {"accountId": acct})[1]
    state = out["queryState"]
    b = create_task(server, acct, lid, title="two")["id"]
    out = call(server, "Task/queryChanges", {"accountId": acct, "sinceQueryState": state})[1]
    assert [x["id"] for x in out["added"]] == [b] and out["removed"] == []
    assert a not in [x["id"] for x in out["added"]]


def test_destroy_task_list_with_tasks_tasks06_4_3(fresh_server):
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    name, out = call(server, "TaskList/set", {"accountId": acct, "create": {
        "x": {"name": "Doomed"}}})
    lid = out["created"]["x"]["id"]
    tid = create_task(server, acct, lid)["id"]
    out = call(server, "TaskList/set", {"accountId": acct, "destroy": [lid]})[1]
    assert out["notDestroyed"][lid]["type"] == "taskListHasTask"
    out = call(server, "TaskList/set", {"accountId": acct, "destroy": [lid],
                                        "onDestroyRemoveTasks": True})[1]
    assert out["destroyed"] == [lid]
    out = call(server, "Task/get", {"accountId": acct, "ids": [tid]})[1]
    assert out["notFound"] == [tid]
    # the inbox stays
    ib = inbox(server, acct)["id"]
    out = call(server, "TaskList/set", {"accountId": acct, "destroy": [ib]})[1]
    assert out["notDestroyed"][ib]["type"] == "forbidden"


def test_task_copy_and_changes_rfc8620_5_4(server, tacct):
    lid = inbox(server, tacct)["id"]
    state = call(server, "Task/get", {"accountId": tacct, "ids": []})[1]["state"]
    tid = create_task(server, tacct, lid, title="changes")["id"]
    out = call(server, "Task/changes", {"accountId": tacct, "sinceState": state})[1]
    assert tid in out["created"]
    call(server, "Task/set", {"accountId": tacct, "destroy": [tid]})
    out = call(server, "Task/changes", {"accountId": tacct, "sinceState": state})[1]
    assert tid not in out["created"] and tid not in out["updated"]


def test_tasks_need_the_capability_rfc8620_3_6_2(server, tacct):
    r = server.api([["Task/get", {"accountId": tacct, "ids": []}, "c0"]], using=[CORE])
    assert r["methodResponses"][0][1]["type"] == "unknownMethod"


def test_task_push_type_in_event_source_state_rfc8620_7_1(server, tacct):
    lid = inbox(server, tacct)["id"]
    create_task(server, tacct, lid)
    s = server.session()
    assert "urn:ietf:params:jmap:tasks" in s["accounts"][tacct]["accountCapabilities"]


VTODO = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         "BEGIN:VTODO\r\nUID:task-17\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Write report\r\n"
         "DUE;TZID=Europe/Berlin:20250310T170000\r\nESTIMATED-DURATION:PT3H\r\n"
         "STATUS:FAILED\r\nREASON:https://example.com/reason\r\nSUBSTATE:OK\r\n"
         "TASK-MODE:AUTOMATIC-COMPLETION\r\nPERCENT-COMPLETE:40\r\nEND:VTODO\r\n"
         "END:VCALENDAR\r\n")


def test_vtodo_import_and_export_ical_tasks17(fresh_server, tmp_path):
    """issue 16 §5: VTODOs go into the default task list; STATUS:FAILED is progress
    "failed" (jscalendar-icalendar-25 §2.3); ESTIMATED-DURATION is estimatedDuration;
    REASON, SUBSTATE and TASK-MODE (ical-tasks-17 §6, §7) come back unchanged."""
    from conftest import run_cli
    import requests
    server = fresh_server
    f = tmp_path / "tasks.ics"
    f.write_text(VTODO)
    r = run_cli(server.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0 and "1 imported (1 new" in r.stdout, r.stdout + r.stderr
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    t = call(server, "Task/get", {"accountId": acct, "ids": None})[1]["list"][0]
    assert t["taskListId"] == lid and t["uid"] == "task-17" and t["progress"] == "failed"
    assert t["estimatedDuration"] == "PT3H" and t["percentComplete"] == 40
    assert t["due"] == "2025-03-10T17:00:00" and t["timeZone"] == "Europe/Berlin"
    for body in (run_cli(server.data, "export", "--user", "alice", "--tasklist", lid).stdout,
                 server.http().get(f"{server.base}/export/tasklist/{acct}/{lid}").text):
        assert "BEGIN:VTODO" in body and "UID:task-17" in body and "STATUS:FAILED" in body
        for line in ("ESTIMATED-DURATION:PT3H", "REASON:https://example.com/reason",
                     "SUBSTATE:OK", "TASK-MODE:AUTOMATIC-COMPLETION", "PERCENT-COMPLETE:40",
                     "DUE;TZID=Europe/Berlin:20250310T170000"):
            assert line in body, line
    # the same file again replaces the task (same uid), it does not duplicate it
    r = run_cli(server.data, "import", "--user", "alice", str(f))
    assert "1 imported (0 new, 1 updated)" in r.stdout, r.stdout
    assert len(call(server, "Task/query", {"accountId": acct})[1]["ids"]) == 1


def test_task_text_search_words_and_index_calendars27_5_11_1(fresh_server):
    """Text conditions match as CalendarEvent/query's do (calendars-27 §5.11.1 by
    analogy): case- and diacritic-insensitive, each word starts a word, quoted text is a
    phrase; the same answer through the index (a plain condition) and without it (OR)."""
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    a = create_task(server, acct, lid, title="Crème brûlée for Zoë",
                    due="2026-05-01T10:00:00")["id"]
    b = create_task(server, acct, lid, title="Brûler les notes",
                    comments={"m": {"@type": "Comment", "message": "ask Zoë first"}})["id"]

    def q(f):
        return set(call(server, "Task/query", {"accountId": acct, "filter": f})[1]["ids"])

    for f, want in ((("text", "creme"), {a}), (("text", "BRUL"), {a, b}),
                    (("text", "rulee"), set()), (("title", "zoe"), {a}),
                    (("text", "zoe"), {a, b}), (("text", '"brûlée for"'), {a}),
                    (("description", "zoe"), set())):
        plain = q({f[0]: f[1]})
        assert plain == want, (f, plain)
        assert q({"operator": "OR", "conditions": [{f[0]: f[1]}]}) == want, f
    assert q({"text": "zoe", "after": "2026-04-01T00:00:00Z"}) == {a}
    # the index follows updates and destroys
    call(server, "Task/set", {"accountId": acct, "update": {a: {"title": "Apple pie"}}})
    assert q({"text": "creme"}) == set() and q({"title": "apple"}) == {a}
    call(server, "Task/set", {"accountId": acct, "destroy": [a]})
    assert q({"title": "apple"}) == set()


def test_recurring_task_expansion_and_instances_tasks06_5_3(fresh_server):
    """tasks-06 §5.3 (recurrences extension): expandRecurrences gives each occurrence
    with a synthetic id and baseTaskId (calendars-27 §5.5); an instance can be read,
    changed (an override on the base, no new task) and destroyed (excluded)."""
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    base = create_task(server, acct, lid, title="Water the plants",
                       start="2026-03-02T09:00:00", due="2026-03-02T10:00:00",
                       timeZone="Europe/Berlin",
                       recurrenceRule={"@type": "RecurrenceRule", "frequency": "weekly",
                                       "count": 4})["id"]
    single = create_task(server, acct, lid, title="One-off", due="2026-03-10T12:00:00")["id"]

    def q(**kw):
        name, out = call(server, "Task/query", {"accountId": acct, "filter": {
            "after": "2026-03-01T00:00:00Z", "before": "2026-04-01T00:00:00Z"},
            "expandRecurrences": True, "sort": [{"property": "start"}], **kw})
        assert name == "Task/query", out
        return out

    ids = q()["ids"]
    inst = [i for i in ids if i != single]
    assert len(inst) == 4 and single in ids
    assert all(i.startswith(base + "_") for i in inst)
    out = call(server, "Task/get", {"accountId": acct, "ids": [inst[1]]})[1]
    t = out["list"][0]
    assert t["baseTaskId"] == base and t["recurrenceId"] == "2026-03-09T09:00:00"
    assert t["start"] == "2026-03-09T09:00:00" and t["due"] == "2026-03-09T10:00:00"
    out = call(server, "Task/get", {"accountId": acct, "ids": [inst[1]],
                                    "properties": ["recurrenceRule", "baseTaskId"]})[1]
    assert out["list"][0]["recurrenceRule"] is None
    # change one instance: an override on the base (progress per occurrence)
    state = q()["queryState"]
    out = call(server, "Task/set", {"accountId": acct, "update": {
        inst[1]: {"progress": "completed", "title": "Plants (done)"}}})[1]
    assert inst[1] in out["updated"], out
    b = call(server, "Task/get", {"accountId": acct, "ids": [base]})[1]["list"][0]
    assert b["recurrenceOverrides"]["2026-03-09T09:00:00"] == {
        "progress": "completed", "title": "Plants (done)"}
    t = call(server, "Task/get", {"accountId": acct, "ids": [inst[1]]})[1]["list"][0]
    assert t["progress"] == "completed" and t["title"] == "Plants (done)"
    assert len(call(server, "Task/query", {"accountId": acct})[1]["ids"]) == 2  # no new task
    # an instance cannot change what belongs to the series
    out = call(server, "Task/set", {"accountId": acct, "update": {
        inst[2]: {"taskListId": "lother"}}})[1]
    assert out["notUpdated"][inst[2]]["type"] == "invalidProperties"
    # destroying an instance excludes it
    out = call(server, "Task/set", {"accountId": acct, "destroy": [inst[3]]})[1]
    assert out["destroyed"] == [inst[3]]
    ids = q()["ids"]
    assert inst[3] not in ids and len(ids) == 4
    out = call(server, "Task/get", {"accountId": acct, "ids": [inst[3]]})[1]
    assert out["notFound"] == [inst[3]]
    # /queryChanges of the expanded query (RFC 8620 §5.6)
    out = call(server, "Task/queryChanges", {"accountId": acct, "sinceQueryState": state,
                                             "filter": {"after": "2026-03-01T00:00:00Z",
                                                        "before": "2026-04-01T00:00:00Z"},
                                             "expandRecurrences": True,
                                             "sort": [{"property": "start"}]})[1]
    assert inst[3] in out["removed"]
    # the filter applies per instance
    out = call(server, "Task/query", {"accountId": acct, "expandRecurrences": True, "filter": {
        "after": "2026-03-01T00:00:00Z", "before": "2026-04-01T00:00:00Z",
        "progress": "completed"}})[1]
    assert out["ids"] == [inst[1]]
    # expansion needs a window (calendars-27 §5.11)
    name, out = call(server, "Task/query", {"accountId": acct, "expandRecurrences": True})
    assert name == "error" and out["type"] == "invalidArguments"


def test_recurring_task_due_anchor_jscalendarbis17_4_3_3(fresh_server):
    """A Task without start recurs on its due (jscalendarbis-17 §4.3.3)."""
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    base = create_task(server, acct, lid, title="Rent", due="2026-01-31T18:00:00",
                       timeZone="Europe/Berlin",
                       recurrenceRule={"@type": "RecurrenceRule", "frequency": "monthly",
                                       "byMonthDay": [-1]})["id"]
    out = call(server, "Task/query", {"accountId": acct, "expandRecurrences": True,
                                      "filter": {"after": "2026-01-01T00:00:00Z",
                                                 "before": "2026-05-01T00:00:00Z"},
                                      "sort": [{"property": "due"}]})[1]
    got = call(server, "Task/get", {"accountId": acct, "ids": out["ids"],
                                    "properties": ["due", "baseTaskId"]})[1]["list"]
    assert [t["due"] for t in got] == ["2026-01-31T18:00:00", "2026-02-28T18:00:00",
                                       "2026-03-31T18:00:00", "2026-04-30T18:00:00"]
    assert all(t["baseTaskId"] == base for t in got)


def test_task_mode_automation_ical_tasks17_5_3(fresh_server, tmp_path):
    """ical-tasks-17 §5.3 TASK-MODE on the organizer's copy: AUTOMATIC-COMPLETION
    completes the task when every attendee has completed; AUTOMATIC-FAILURE fails it
    when one fails; CLIENT (or no TASK-MODE) leaves the status to the client."""
    from conftest import run_cli
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    me = "mailto:alice@localhost"

    def team(mode, progress_a, progress_b):
        return {"organizerCalendarAddress": me,
                "iCalendar": {"@type": "ICalComponent", "name": "vtodo",
                              "properties": [["task-mode", {}, "text", mode]]},
                "participants": {
                    "o": {"@type": "Participant", "calendarAddress": me,
                          "roles": {"owner": True}},
                    "a": {"@type": "Participant", "calendarAddress": "mailto:a@example.com",
                          "roles": {"assignee": True}, "participationStatus": "accepted",
                          "progress": progress_a},
                    "b": {"@type": "Participant", "calendarAddress": "mailto:b@example.com",
                          "participationStatus": "accepted", "progress": progress_b}}}

    tid = create_task(server, acct, lid, **team("AUTOMATIC-COMPLETION", "completed",
                                               "in-process"))["id"]
    t = call(server, "Task/get", {"accountId": acct, "ids": [tid]})[1]["list"][0]
    assert t.get("progress") in (None, "needs-action", "in-process")
    out = call(server, "Task/set", {"accountId": acct, "update": {
        tid: {"participants/b/progress": "completed"}}})[1]
    assert tid in out["updated"], out
    got = call(server, "Task/get", {"accountId": acct, "ids": [tid],
                                    "properties": ["iCalendar"]})[1]["list"][0]
    # ical-tasks-17 §4: the server's change of the overall status comes with a VSTATUS
    vstatus = [c for c in got["iCalendar"].get("components", []) if c[0] == "vstatus"]
    assert len(vstatus) == 1 and vstatus[0][1][0] == ["status", {}, "text", "COMPLETED"]
    assert out["updated"][tid]["progress"] == "completed"  # a server change, reported
    t = call(server, "Task/get", {"accountId": acct, "ids": [tid]})[1]["list"][0]
    assert t["progress"] == "completed"
    # AUTOMATIC-FAILURE: one failed attendee fails the task
    tid = create_task(server, acct, lid, **team("AUTOMATIC-FAILURE", "failed", "completed"))["id"]
    t = call(server, "Task/get", {"accountId": acct, "ids": [tid]})[1]["list"][0]
    assert t["progress"] == "failed"
    # CLIENT: nothing automatic
    tid = create_task(server, acct, lid, **team("CLIENT", "completed", "completed"))["id"]
    t = call(server, "Task/get", {"accountId": acct, "ids": [tid]})[1]["list"][0]
    assert t.get("progress") != "completed"
    # not the organizer's copy: nothing automatic either
    other = team("AUTOMATIC", "failed", "completed")
    other["organizerCalendarAddress"] = "mailto:boss@example.com"
    other["participants"]["o"]["calendarAddress"] = "mailto:boss@example.com"
    tid = create_task(server, acct, lid, **other)["id"]
    t = call(server, "Task/get", {"accountId": acct, "ids": [tid]})[1]["list"][0]
    assert t["isOrigin"] is False and t.get("progress") != "failed"
    # the same through an imported VTODO
    f = tmp_path / "team.ics"
    f.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\n"
                 "UID:tm-1\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Team task\r\n"
                 f"ORGANIZER:{me}\r\nATTENDEE;PARTSTAT=COMPLETED:mailto:a@example.com\r\n"
                 "ATTENDEE;PARTSTAT=COMPLETED:mailto:b@example.com\r\n"
                 "TASK-MODE:AUTOMATIC-COMPLETION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    r = run_cli(server.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    ids = call(server, "Task/query", {"accountId": acct, "filter": {"uid": "tm-1"}})[1]["ids"]
    t = call(server, "Task/get", {"accountId": acct, "ids": ids})[1]["list"][0]
    assert t["progress"] == "completed"


def test_task_notifications_for_changes_by_others_tasks06_6(fresh_server):
    """tasks-06 §6 (calendars-27 §7): a TaskNotification is recorded in the account when
    someone other than its owner creates, updates or destroys a task there (bob has an
    account-wide grant on alice's account); the owner's own changes record none; they
    can be queried and destroyed, never created."""
    server = fresh_server
    acct = server.session()["primaryAccounts"][TASKS]
    lid = inbox(server, acct)["id"]
    mine = create_task(server, acct, lid, title="mine")["id"]
    call(server, "Task/set", {"accountId": acct, "update": {mine: {"title": "still mine"}}})

    def notes():
        out = call(server, "TaskNotification/query", {"accountId": acct,
                                                      "sort": [{"property": "created"}]})[1]
        return call(server, "TaskNotification/get", {"accountId": acct,
                                                     "ids": out["ids"]})[1]["list"]

    assert notes() == []
    name, out = call(server, "Task/set", {"accountId": acct, "create": {
        "b": {"@type": "Task", "taskListId": lid, "title": "from bob"}}}, user="bob")
    tid = out["created"]["b"]["id"]
    call(server, "Task/set", {"accountId": acct, "update": {tid: {"title": "bob again"}}},
         user="bob")
    call(server, "Task/set", {"accountId": acct, "destroy": [tid]}, user="bob")
    by_type = {n["type"]: n for n in notes()}  # created has a one-second resolution
    assert sorted(by_type) == ["created", "destroyed", "updated"], by_type
    got = [by_type["created"], by_type["updated"], by_type["destroyed"]]
    assert all(n["taskId"] == tid for n in got)
    assert got[0]["changedBy"]["@type"] == "Person" and got[0]["changedBy"]["name"]
    assert got[0]["task"]["title"] == "from bob" and got[0]["isDraft"] is False
    assert got[1]["task"]["title"] == "from bob" and got[1]["taskPatch"]["title"] == "bob again"
    assert got[2]["task"]["title"] == "bob again" and "isDraft" not in got[2]
    out = call(server, "TaskNotification/query", {"accountId": acct,
                                                  "filter": {"type": "updated"}})[1]
    assert out["ids"] == [got[1]["id"]]
    # only the server creates them; the user may destroy them
    name, out = call(server, "TaskNotification/set", {"accountId": acct, "create": {
        "x": {"type": "created", "taskId": tid}}})
    assert out["notCreated"]["x"]["type"] in ("forbidden", "invalidProperties")
    out = call(server, "TaskNotification/set", {"accountId": acct, "destroy": [got[0]["id"]]})[1]
    assert out["destroyed"] == [got[0]["id"]]
    # a refused change by bob records nothing
    call(server, "Task/set", {"accountId": acct, "create": {
        "bad": {"@type": "Task", "taskListId": lid, "duration": "PT1H"}}}, user="bob")
    assert len(notes()) == 2
