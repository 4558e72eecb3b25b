"""Issue 15 §1: text search on PostgreSQL (tsvector, simple + unaccent) gives the same
results as the SQLite backend (FTS5 unicode61, diacritics removed) on the same data:
the same events on both stores, the same CalendarEvent/query text filters
(draft-ietf-jmap-calendars §5.9.1: text, title, description, location), the same
titles back. Runs in the PostgreSQL pass of the suite (JMAPD_TEST_STORE=pg)."""
import pytest

import conftest
from conftest import Server

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")

EVENTS = [
    ("Café with Zoë", "Ask about the naïve résumé", "Zürich, Bahnhofstraße 1"),
    ("CAFE REVIEW", "e-mail alice@example.com before 12:30", "Room 4.2"),
    ("Planning/Budget Q3", "O'Brien's follow-up; see https://example.org/x?y=z", "HQ"),
    ("Lunch", "pasta_bar and self-service", "Canteen #2"),
    ("Équipe réunion", "ordre du jour: budget 2026", "Paris — La Défense"),
    ("Standup", "daily sync", "Ströme"),
    # letters unaccent folded and unicode61 keeps (PostgreSQL found "strasse" here)
    ("Øresund Æsir", "Straße œuvre ½ — ✓", "Łódź"),
]

QUERIES = [
    {"text": "cafe"}, {"text": "CAFÉ"}, {"text": "zoe"}, {"text": "naive resume"},
    {"title": "cafe"}, {"description": "resume"}, {"location": "zurich"},
    {"text": "alice"}, {"text": "example"}, {"text": "alice@example.com"}, {"text": "e-mail"},
    {"text": "mail"}, {"text": "12"}, {"text": "30"}, {"text": "brien"}, {"text": "o'brien"},
    {"text": "follow"}, {"text": "budget"}, {"title": "budget"}, {"text": "q3"},
    {"text": "pasta"}, {"text": "pasta_bar"}, {"text": "self-service"}, {"text": "service"},
    {"text": "equipe"}, {"text": "reunion"}, {"text": "defense"}, {"text": "la"},
    {"text": "plan"}, {"text": "stand"}, {"text": "stro"}, {"text": "strome"},
    {"text": "bahnhof"}, {"location": "room 4"}, {"text": "nothing-like-this"},
    {"text": "https"}, {"text": "daily sync"}, {"description": "sync daily"},
    {"text": "strasse"}, {"text": "straße"}, {"text": "STRASSE"}, {"text": "oresund"},
    {"text": "øresund"}, {"text": "aesir"}, {"text": "æsir"}, {"text": "oeuvre"},
    {"text": "œuvre"}, {"text": "lodz"}, {"text": "łódź"}, {"text": "½"}, {"text": "—"},
    {"text": "standup —"}, {"text": "✓"}, {"text": "Øre"},
]


def load(server):
    acct = server.account()
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    create = {f"e{i}": {"calendarIds": {cal: True}, "title": t, "description": d,
                        "locations": {"l": {"name": loc}}, "start": f"2026-05-0{i + 1}T10:00:00",
                        "duration": "PT1H", "timeZone": "Europe/Zurich"}
              for i, (t, d, loc) in enumerate(EVENTS)}
    _, out = server.call("CalendarEvent/set", {"accountId": acct, "create": create})
    assert not out.get("notCreated"), out["notCreated"]
    return acct, {v["id"]: EVENTS[int(k[1:])][0] for k, v in out["created"].items()}


def results(server, acct, titles, flt):
    name, out = server.call("CalendarEvent/query", {"accountId": acct, "filter": flt})
    assert name == "CalendarEvent/query", out
    return sorted(titles[i] for i in out["ids"])


def test_same_results_as_sqlite(monkeypatch):
    pg = Server()
    monkeypatch.setenv("JMAPD_STORE", "sqlite")
    sq = Server()
    try:
        pacct, ptitles = load(pg)
        sacct, stitles = load(sq)
        found = 0
        for flt in QUERIES:
            want = results(sq, sacct, stitles, flt)
            assert results(pg, pacct, ptitles, flt) == want, flt
            found += bool(want)
        assert found >= len(QUERIES) // 2  # the queries do find things
    finally:
        sq.close()
        pg.close()
