"""CalendarEvent/parse on real-world files (issue 12 §3.5): what the converter repaired to
read a blob is listed in `warnings`, next to the parsed objects (blobId -> strings naming
the line); a clean blob has none, and `warnings` is null when no blob needed a repair."""
from conftest import CAL, CORE

USING = [CORE, CAL, "urn:ietf:params:jmap:calendars:parse"]


def upload(server, acct, data):
    return server.http().post(f"{server.base}/jmap/upload/{acct}/", data=data,
                              headers={"Content-Type": "text/calendar"}).json()["blobId"]


def test_issue12_3_5_parse_lists_repairs(server, acct):
    # Outlook habits: a bare VEVENT, a Windows zone name, Windows-1252 text, no UID
    outlook = (b"BEGIN:VEVENT\r\nDTSTAMP:20250101T000000Z\r\n"
               b"DTSTART;TZID=W. Europe Standard Time:20250110T100000\r\n"
               b"SUMMARY:Caf\xe9\r\nEND:VEVENT\r\n")
    clean = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
             b"UID:clean@example.com\r\nDTSTAMP:20250101T000000Z\r\n"
             b"DTSTART:20250110T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    b1, b2 = upload(server, acct, outlook), upload(server, acct, clean)
    name, out = server.call("CalendarEvent/parse", {"accountId": acct, "blobIds": [b1, b2]},
                            using=USING)
    assert name == "CalendarEvent/parse"
    ev = out["parsed"][b1][0]
    assert ev["title"] == "Caf\u00e9" and ev["timeZone"] == "Europe/Berlin" and ev["uid"]
    w = out["warnings"][b1]
    assert any("outside of a VCALENDAR" in x for x in w)
    assert any("missing UID" in x for x in w)
    assert any("W. Europe Standard Time" in x for x in w)
    assert any("Windows-1252" in x for x in w)
    assert all(x.startswith("line ") for x in w)
    assert b2 not in out["warnings"] and out["parsed"][b2][0]["uid"] == "clean@example.com"
    name, out = server.call("CalendarEvent/parse", {"accountId": acct, "blobIds": [b2]},
                            using=USING)
    assert out["warnings"] is None
