"""CalDAV scheduling (RFC 6638) on the groupware scheduling between users of this server:
the principal's scheduling properties, implicit scheduling of PUT and DELETE (the
attendee's copy appears, is cancelled), Schedule-Tag that a reply leaves alone and
If-Schedule-Tag-Match (merge on match, 412 otherwise)."""
import uuid

from davutil import C, D, NSDECL, dav, homes, multistatus, propfind, put, unfold


def address(server, user):
    p = multistatus(propfind(server, f"/dav/principals/{user}/", "<c:calendar-user-address-set/>",
                             user=user))[f"/dav/principals/{user}/"]["props"]
    hrefs = [h.text for h in p[C + "calendar-user-address-set"].findall(D + "href")]
    mail = [h for h in hrefs if h.startswith("mailto:")]
    assert mail, hrefs
    return mail[0]


def meeting(uid, org, att, partstat="NEEDS-ACTION", summary="Planning", extra=()):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", f"UID:{uid}",
        "DTSTAMP:20260101T000000Z", "DTSTART:20260504T100000Z", "DURATION:PT1H",
        f"SUMMARY:{summary}", f"ORGANIZER:{org}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:{org}", f"ATTENDEE;PARTSTAT={partstat};RSVP=TRUE:{att}",
        *extra, "END:VEVENT", "END:VCALENDAR", ""])


def copy_of(server, user, uid):
    acct = server.account(user)
    _, q = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": uid}},
                       user=user)
    if not q["ids"]:
        return None
    _, got = server.call("CalendarEvent/get", {"accountId": acct, "ids": q["ids"]}, user=user)
    return got["list"][0]


def first_calendar(server, user):
    home = homes(server, user)[0]
    ms = multistatus(propfind(server, home, "<d:resourcetype/>", depth=1, user=user))
    return [h for h, e in ms.items() if e["props"][D + "resourcetype"].find(C + "calendar")
            is not None][0]


def test_rfc6638_2_principal_scheduling_properties(fresh_server):
    s = fresh_server
    p = multistatus(propfind(s, "/dav/principals/alice/",
                             "<c:schedule-inbox-URL/><c:schedule-outbox-URL/>"
                             "<c:calendar-user-address-set/><c:calendar-user-type/>"))
    props = p["/dav/principals/alice/"]["props"]
    home = homes(s)[0]
    assert props[C + "schedule-inbox-URL"].find(D + "href").text == home + "inbox/"
    assert props[C + "schedule-outbox-URL"].find(D + "href").text == home + "outbox/"
    assert props[C + "calendar-user-type"].text == "INDIVIDUAL"
    assert address(s, "alice").lower().startswith("mailto:alice@")
    assert "calendar-auto-schedule" in s.http().options(s.base + "/dav/").headers["DAV"]


def test_rfc6638_3_2_implicit_scheduling_put_and_delete(fresh_server):
    s = fresh_server
    org, att = address(s, "alice"), address(s, "bob")
    cal = first_calendar(s, "alice")
    uid = str(uuid.uuid4())
    r = put(s, cal + "meeting.ics", meeting(uid, org, att))
    assert r.status_code == 201, r.text
    # §3.2.1.1: the organizer's PUT sent a REQUEST: bob has his copy at once
    copy = copy_of(s, "bob", uid)
    assert copy is not None and copy["title"] == "Planning" and copy["isOrigin"] is False
    # and sees it over CalDAV in his own calendar
    bcal = first_calendar(s, "bob")
    ms = multistatus(propfind(s, bcal, "<d:getetag/>", depth=1, user="bob"))
    assert len(ms) == 2
    # §3.2.1.2: a change is sent again
    r = put(s, cal + "meeting.ics", meeting(uid, org, att, summary="Planning v2"))
    assert r.status_code == 204, r.text
    assert copy_of(s, "bob", uid)["title"] == "Planning v2"
    # §3.2.1.3: the organizer's DELETE cancels the attendee's copy
    assert s.http().delete(s.base + cal + "meeting.ics").status_code == 204
    assert copy_of(s, "bob", uid)["status"] == "cancelled"


def test_rfc6638_3_2_unreachable_attendee_still_stored(fresh_server):
    s = fresh_server
    cal = first_calendar(s, "alice")
    uid = str(uuid.uuid4())
    # no iMIP configured: the event is stored as sent, nothing is delivered
    r = put(s, cal + "ext.ics", meeting(uid, address(s, "alice"), "mailto:someone@example.org"))
    assert r.status_code == 201, r.text
    assert "someone@example.org" in unfold(s.http().get(s.base + cal + "ext.ics").text)


def test_rfc6638_3_2_10_schedule_tag_and_if_schedule_tag_match(fresh_server):
    s = fresh_server
    org, att = address(s, "alice"), address(s, "bob")
    cal = first_calendar(s, "alice")
    uid = str(uuid.uuid4())
    path = cal + "tagged.ics"
    assert put(s, path, meeting(uid, org, att)).status_code == 201
    g = s.http().get(s.base + path)
    tag, etag = g.headers["Schedule-Tag"], g.headers["ETag"]
    p = multistatus(propfind(s, path, "<c:schedule-tag/>"))[path]["props"]
    assert p[C + "schedule-tag"].text == tag
    # bob accepts (a reply, processed into alice's copy): her ETag changes, the tag does not
    copy = copy_of(s, "bob", uid)
    me = [k for k, v in copy["participants"].items()
          if v["calendarAddress"].lower() == att.lower()][0]
    _, res = s.call("CalendarEvent/set", {
        "accountId": s.account("bob"), "sendSchedulingMessages": True,
        "update": {copy["id"]: {f"participants/{me}/participationStatus": "accepted"}}},
        user="bob")
    assert copy["id"] in res["updated"], res
    g = s.http().get(s.base + path)
    assert "PARTSTAT=ACCEPTED" in unfold(g.text).split(att)[0].rsplit("ATTENDEE", 1)[1]
    assert g.headers["ETag"] != etag and g.headers["Schedule-Tag"] == tag
    # §3.2.10.1: a PUT with the old body under the matching tag keeps bob's answer
    r = put(s, path, meeting(uid, org, att, summary="Moved"),
            headers={"If-Schedule-Tag-Match": tag})
    assert r.status_code == 204, r.text
    new_tag = r.headers["Schedule-Tag"]
    assert new_tag != tag  # changed by an HTTP request
    text = unfold(s.http().get(s.base + path).text)
    assert "SUMMARY:Moved" in text
    assert "PARTSTAT=ACCEPTED" in text.split(att)[0].rsplit("ATTENDEE", 1)[1]
    # a stale tag: 412 and nothing changes (PUT and DELETE)
    r = put(s, path, meeting(uid, org, att, summary="Stale"),
            headers={"If-Schedule-Tag-Match": tag})
    assert r.status_code == 412
    r = s.http().delete(s.base + path, headers={"If-Schedule-Tag-Match": tag})
    assert r.status_code == 412
    assert "SUMMARY:Moved" in unfold(s.http().get(s.base + path).text)
    r = s.http().delete(s.base + path, headers={"If-Schedule-Tag-Match": new_tag})
    assert r.status_code == 204


def test_rfc6638_2_2_schedule_inbox_holds_received_messages(fresh_server):
    s = fresh_server
    org, att = address(s, "alice"), address(s, "bob")
    inbox = multistatus(propfind(s, "/dav/principals/bob/", "<c:schedule-inbox-URL/>", user="bob"))[
        "/dav/principals/bob/"]["props"][C + "schedule-inbox-URL"].find(D + "href").text
    outbox = inbox.replace("/inbox/", "/outbox/")
    ms = multistatus(propfind(s, inbox, "<d:resourcetype/><c:schedule-default-calendar-URL/>",
                              depth=1, user="bob"))
    assert ms[inbox]["props"][D + "resourcetype"].find(C + "schedule-inbox") is not None
    # §9.2: invitations land in the default calendar, a calendar of bob's home
    default = ms[inbox]["props"][C + "schedule-default-calendar-URL"].find(D + "href").text
    assert default == first_calendar(s, "bob")
    before = set(ms) - {inbox}
    ms = multistatus(propfind(s, outbox, "<d:resourcetype/>", user="bob"))
    assert ms[outbox]["props"][D + "resourcetype"].find(C + "schedule-outbox") is not None
    uid = str(uuid.uuid4())
    cal = first_calendar(s, "alice")
    assert put(s, cal + "inv.ics", meeting(uid, org, att)).status_code == 201
    ms = multistatus(propfind(s, inbox, "<d:getetag/>", depth=1, user="bob"))
    (item,) = set(ms) - {inbox} - before
    assert ms[item]["props"][D + "getetag"].text
    g = s.http("bob").get(s.base + item)
    text = unfold(g.text)
    assert g.status_code == 200 and "METHOD:REQUEST" in text and f"UID:{uid}" in text
    # the organizer cancels: a CANCEL arrives
    assert s.http().delete(s.base + cal + "inv.ics").status_code == 204
    ms = multistatus(propfind(s, inbox, "<d:getetag/>", depth=1, user="bob"))
    new = set(ms) - {inbox} - before - {item}
    assert len(new) == 1
    text = unfold(s.http("bob").get(s.base + new.pop()).text)
    assert "METHOD:CANCEL" in text and f"UID:{uid}" in text
    # a message stays what it was when it arrived
    assert "METHOD:REQUEST" in unfold(s.http("bob").get(s.base + item).text)
    # §2.2: the user removes a processed message
    assert s.http("bob").delete(s.base + item).status_code == 204
    assert s.http("bob").get(s.base + item).status_code == 404
    ms = multistatus(propfind(s, inbox, "<d:getetag/>", depth=1, user="bob"))
    assert item not in ms
    # another user's inbox is not reachable
    assert propfind(s, inbox, "<d:resourcetype/>", user="alice").status_code == 404
