"""A database from before issue 14's last two schema steps, upgraded by `jmapd serve`
(issue 14): SQLite steps 24 and 25, PostgreSQL 16 and 17 — whether each share lets its
principal read the collection's items (shares.may_read; draft-ietf-jmap-calendars-27
§4.1: a free/busy-only share is no account of the sharee's, RFC 9670 §1.4) and the
collections each event is shown in (object_members: a sharee's sorted page walks the
calendars they read; §5.7: a secret event is in none). The older database is this
test's own data with the column and the table taken away and the schema version set
back, as a database written before the steps is; after the restart every sharee sees
what they saw before, and the pages follow a change as before."""
import os
import sqlite3

import conftest
from groupware_util import GroupServer
from test_sharing_calendars27 import rights

CAL = "urn:ietf:params:jmap:calendars"


def as_before_steps(s):
    """Takes the server's stopped database back to its layout before the steps."""
    if conftest.PG:
        schema = conftest.PG_CLUSTER.schema_for(s.data)
        conftest.PG_CLUSTER.psql(conftest.pgharness.DB, (
            f"SET search_path = {schema}; ALTER TABLE shares DROP COLUMN may_read;"
            "DROP TABLE object_members; UPDATE jmapd_schema SET version = 15"))
        return
    db = sqlite3.connect(os.path.join(s.data, "jmapd.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 25
    db.executescript(
        "CREATE TABLE shares_old(account_id TEXT NOT NULL, type TEXT NOT NULL,"
        "  object_id TEXT NOT NULL, principal_id TEXT NOT NULL, may_write INTEGER NOT NULL,"
        "  PRIMARY KEY(account_id, type, object_id, principal_id)) WITHOUT ROWID;"
        "INSERT INTO shares_old SELECT account_id, type, object_id, principal_id, may_write"
        "  FROM shares;"
        "DROP TABLE shares; ALTER TABLE shares_old RENAME TO shares;"
        "CREATE INDEX shares_principal ON shares(principal_id, account_id);"
        "DROP TABLE object_members; PRAGMA user_version = 23;")
    db.close()


def test_sharing_of_an_older_database_calendars27_s4_1_s5_7_rfc9670_s1_4():
    s = GroupServer()
    try:
        a, bob, dan = s.own("alice"), s.own("bob"), s.own("dan")
        _, res = s.c("Calendar/set", {"accountId": a, "create": {
            "seen": {"name": "seen", "shareWith": {bob: rights("mayReadItems")}},
            "hidden": {"name": "hidden"},
            "busy": {"name": "busy", "shareWith": {dan: rights("mayReadFreeBusy")}}}})
        seen, hidden, busy = (res["created"][k]["id"] for k in ("seen", "hidden", "busy"))
        create = {}
        for i in range(1100):  # the index path (issue 21: an account of 1,000 events)
            cals = [seen] if i % 3 == 0 else [hidden] if i % 3 == 1 else [seen, hidden]
            create[f"e{i}"] = {
                "calendarIds": {c: True for c in cals + ([busy] if i % 50 == 0 else [])},
                "title": f"e{i}", "duration": "PT1H", "timeZone": "Europe/Paris",
                "start": f"2030-{1 + i % 12:02d}-{1 + i % 28:02d}T{8 + i % 9:02d}:00:00",
                **({"privacy": "secret"} if i % 17 == 0 else {})}
        items = list(create.items())
        for part in (dict(items[k:k + 200]) for k in range(0, len(items), 200)):
            _, res = s.c("CalendarEvent/set", {"accountId": a, "create": part})
            assert len(res.get("created") or {}) == len(part), res

        cases = [(0, 50, False), (1, 7, False), (333, 40, True), (600, 100, False),
                 (700, 10, True)]

        def seen_by_bob():
            out = {"accounts": sorted(s.session("bob")["accounts"])}
            for pos, limit, desc in cases:
                _, res = s.c("CalendarEvent/query", {
                    "accountId": a, "position": pos, "limit": limit,
                    "sort": [{"property": "start", "isAscending": not desc}]}, user="bob")
                out[pos, limit, desc] = res["ids"]
            _, res = s.c("CalendarEvent/get", {"accountId": a, "ids": out[0, 50, False]},
                         user="bob")
            out["get"] = sorted(res["list"], key=lambda e: e["id"])
            _, res = s.c("Calendar/get", {"accountId": a}, user="bob")
            out["calendars"] = sorted(c["id"] for c in res["list"])
            return out

        def seen_by_dan():
            _, res = s.c("Principal/get", {"accountId": dan, "ids": [a]}, user="dan")
            p = res["list"][0]
            return {"accounts": sorted(s.session("dan")["accounts"]),
                    "principal": p["capabilities"][CAL]["accountId"],
                    "availability": p["capabilities"][CAL]["mayGetAvailability"]}

        before_bob, before_dan = seen_by_bob(), seen_by_dan()
        assert a in before_bob["accounts"] and before_bob["calendars"] == [seen]
        assert len(before_bob[0, 50, False]) == 50 and before_bob["get"]
        assert a not in before_dan["accounts"] and before_dan["principal"] is None
        assert before_dan["availability"] is True

        s.stop()
        as_before_steps(s)
        s.start()

        assert seen_by_bob() == before_bob
        assert seen_by_dan() == before_dan
        # the pages follow a change as before: an event moved to the front, one made secret
        first, gone = before_bob[0, 50, False][5], before_bob[0, 50, False][9]
        _, res = s.c("CalendarEvent/set", {"accountId": a, "update": {
            first: {"start": "2029-01-01T07:00:00"}, gone: {"privacy": "secret"}}})
        assert len(res.get("updated") or {}) == 2, res
        _, res = s.c("CalendarEvent/query", {"accountId": a, "limit": 50}, user="bob")
        want = [first] + [i for i in before_bob[0, 50, False] if i not in (first, gone)]
        assert res["ids"][:48] == want[:48], res["ids"]
    finally:
        s.close()
