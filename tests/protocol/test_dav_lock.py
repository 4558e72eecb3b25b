"""Write locks (RFC 4918 class 2: §6 locking model, §9.10 LOCK, §9.11 UNLOCK, §10.4 If,
§10.5 Lock-Token, §10.7 Timeout, §15.8 lockdiscovery, §15.10 supportedlock, §16
preconditions): the DAV header says class 2, a lock keeps others (and the holder without
its token) from writing, the token lets the holder write, UNLOCK and timeouts end it."""
import re
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

import conftest
from davutil import (C, D, NSDECL, dav, error_condition, homes, ics, multistatus,
                     new_addressbook, new_calendar, propfind, put, sync_token, vcf)
from test_pg_frontends import pair  # noqa: F401 (a fixture: two front ends on one database)

LOCKINFO = ('<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:{scope}/>'
            '</d:lockscope><d:locktype><d:write/></d:locktype><d:owner><d:href>mailto:{who}'
            '</d:href></d:owner></d:lockinfo>')


def lock(server, path, user="alice", scope="exclusive", depth=None, timeout=None):
    h = {}
    if timeout:
        h["Timeout"] = timeout
    return dav(server, "LOCK", path, LOCKINFO.format(scope=scope, who=user), user=user,
               headers=h, depth=depth)


def token_of(resp, status=200):
    assert resp.status_code == status, (resp.status_code, resp.text)
    m = re.fullmatch(r"<(opaquelocktoken:[0-9a-f-]{36})>", resp.headers["Lock-Token"])
    assert m, resp.headers["Lock-Token"]
    return m.group(1)


def activelock(resp):
    root = ET.fromstring(resp.content)
    return root.find(f"{D}lockdiscovery/{D}activelock")


def test_rfc4918_10_1_options_says_class_2_and_allows_lock(server):
    r = server.http().options(server.base + "/dav/")
    assert "2" in [c.strip() for c in r.headers["DAV"].split(",")]
    assert {"LOCK", "UNLOCK"} <= {m.strip() for m in r.headers["Allow"].split(",")}


def test_rfc4918_9_10_lock_answers_lockdiscovery_and_blocks_other_writers(server):
    cal = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, cal + "l.ics", ics(uid, "Locked")).status_code == 201
    r = lock(server, cal + "l.ics", timeout="Second-120")
    tok = token_of(r)
    al = activelock(r)
    assert al.find(f"{D}lockscope/{D}exclusive") is not None
    assert al.find(f"{D}locktype/{D}write") is not None
    assert al.find(f"{D}locktoken/{D}href").text == tok
    assert al.find(f"{D}lockroot/{D}href").text == cal + "l.ics"
    assert al.find(f"{D}owner/{D}href").text == "mailto:alice"
    secs = int(al.find(f"{D}timeout").text.split("-")[1])
    assert 0 < secs <= 120
    # §15.8, §15.10 in PROPFIND
    ms = multistatus(propfind(server, cal + "l.ics", "<d:lockdiscovery/><d:supportedlock/>"))
    p = ms[cal + "l.ics"]["props"]
    assert p[D + "lockdiscovery"].find(f"{D}activelock/{D}locktoken/{D}href").text == tok
    assert p[D + "supportedlock"].find(f"{D}lockentry/{D}lockscope/{D}exclusive") is not None
    # §7: a write without the token is 423 with lock-token-submitted (§16)
    r = put(server, cal + "l.ics", ics(uid, "Not allowed"))
    assert r.status_code == 423 and D + "lock-token-submitted" in error_condition(r)
    r = dav(server, "DELETE", cal + "l.ics")
    assert r.status_code == 423
    assert "Locked" in server.http().get(server.base + cal + "l.ics").text
    # §9.10.6 / §6.2: a second exclusive lock conflicts
    r = lock(server, cal + "l.ics")
    assert r.status_code == 423 and D + "no-conflicting-lock" in error_condition(r)
    # §10.4: with the token in the If header the holder writes
    r = put(server, cal + "l.ics", ics(uid, "Holder writes"), headers={"If": f"(<{tok}>)"})
    assert r.status_code in (200, 204), r.text
    assert "Holder writes" in server.http().get(server.base + cal + "l.ics").text
    # a tagged list naming the resource works too
    r = put(server, cal + "l.ics", ics(uid, "Tagged"),
            headers={"If": f"<{server.base}{cal}l.ics> (<{tok}>)"})
    assert r.status_code in (200, 204), r.text
    # §9.11: UNLOCK with the token; then anyone writes again
    r = dav(server, "UNLOCK", cal + "l.ics", headers={"Lock-Token": f"<{tok}>"})
    assert r.status_code == 204
    assert put(server, cal + "l.ics", ics(uid, "Free")).status_code in (200, 204)


def test_rfc4918_6_4_token_of_another_user_and_wrong_unlock(server):
    cal = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, cal + "o.ics", ics(uid)).status_code == 201
    tok = token_of(lock(server, cal + "o.ics"))
    # §9.11.1: a token that is no lock of this URL
    other = f"opaquelocktoken:{uuid.uuid4()}"
    r = dav(server, "UNLOCK", cal + "o.ics", headers={"Lock-Token": f"<{other}>"})
    assert r.status_code == 409 and D + "lock-token-matches-request-uri" in error_condition(r)
    r = dav(server, "UNLOCK", cal + "o.ics")
    assert r.status_code == 400
    # §10.4: a false If header (an unknown token) is 412 and changes nothing
    r = put(server, cal + "o.ics", ics(uid, "x"), headers={"If": f"(<{other}>)"})
    assert r.status_code == 412
    # an ETag condition: true with the current one, false with another
    etag = server.http().get(server.base + cal + "o.ics").headers["ETag"]
    r = put(server, cal + "o.ics", ics(uid, "By etag"), headers={"If": f"(<{tok}> [{etag}])"})
    assert r.status_code in (200, 204), r.text
    r = put(server, cal + "o.ics", ics(uid, "Stale"), headers={"If": f'(<{tok}> ["999999"])'})
    assert r.status_code == 412
    # "Not" of an unknown token is true: the lock still needs its own token
    r = put(server, cal + "o.ics", ics(uid, "y"), headers={"If": f"(Not <{other}>)"})
    assert r.status_code == 423
    assert dav(server, "UNLOCK", cal + "o.ics", headers={"Lock-Token": f"<{tok}>"}).status_code == 204


def test_rfc4918_9_10_collection_lock_depth_infinity_covers_new_members(server):
    cal = new_calendar(server)
    tok = token_of(lock(server, cal, depth="infinity"))
    uid = str(uuid.uuid4())
    # §7.4: a new member of a locked collection needs the collection's token
    r = put(server, cal + "n.ics", ics(uid))
    assert r.status_code == 423
    r = put(server, cal + "n.ics", ics(uid), headers={"If": f"<{server.base}{cal}> (<{tok}>)"})
    assert r.status_code == 201, r.text
    # the member shows the collection's lock (lockroot: the collection)
    ms = multistatus(propfind(server, cal + "n.ics", "<d:lockdiscovery/>"))
    al = ms[cal + "n.ics"]["props"][D + "lockdiscovery"].find(D + "activelock")
    assert al.find(f"{D}lockroot/{D}href").text == cal.rstrip("/")
    # §9.10.3: depth 1 is not a lock depth
    assert lock(server, cal + "n.ics", depth="1").status_code == 400
    assert dav(server, "UNLOCK", cal, headers={"Lock-Token": f"<{tok}>"}).status_code == 204
    assert put(server, cal + "n.ics", ics(uid, "After")).status_code in (200, 204)


def test_rfc4918_9_10_2_refresh_and_timeout(server):
    cal = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, cal + "t.ics", ics(uid)).status_code == 201
    tok = token_of(lock(server, cal + "t.ics", timeout="Second-2"))
    # a refresh: no body, the token in If, a new timeout
    r = dav(server, "LOCK", cal + "t.ics", headers={"If": f"(<{tok}>)", "Timeout": "Second-3"})
    assert r.status_code == 200
    assert activelock(r).find(f"{D}locktoken/{D}href").text == tok
    r = dav(server, "LOCK", cal + "t.ics", headers={"If": f"(<opaquelocktoken:{uuid.uuid4()}>)"})
    assert r.status_code == 412
    assert put(server, cal + "t.ics", ics(uid, "x")).status_code == 423
    time.sleep(4.2)  # §6.6: the lock times out
    assert put(server, cal + "t.ics", ics(uid, "Expired lock")).status_code in (200, 204)


def test_rfc4918_6_2_shared_locks_and_bad_requests(server):
    cal = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, cal + "s.ics", ics(uid)).status_code == 201
    t1 = token_of(lock(server, cal + "s.ics", scope="shared"))
    t2 = token_of(lock(server, cal + "s.ics", scope="shared"))
    assert t1 != t2
    assert lock(server, cal + "s.ics").status_code == 423  # exclusive over shared
    # §6.2: the holder of any one of the shared locks writes; nobody else does
    assert put(server, cal + "s.ics", ics(uid, "none")).status_code == 423
    r = put(server, cal + "s.ics", ics(uid, "one"), headers={"If": f"(<{t2}>)"})
    assert r.status_code in (200, 204), r.text
    # malformed bodies and an unmapped URL
    r = dav(server, "LOCK", cal + "s.ics", "<x xmlns='DAV:'/>")
    assert r.status_code == 400
    r = dav(server, "LOCK", cal + "s.ics", "<d:lockinfo xmlns:d='DAV:'><d:lockscope>"
            "<d:exclusive/></d:lockscope><d:locktype><d:read/></d:locktype></d:lockinfo>")
    assert r.status_code == 400
    assert lock(server, cal.rstrip("/") + "-missing/x.ics").status_code == 409
    r = put(server, cal + "s.ics", ics(uid, "x"), headers={"If": "(garbage"})
    assert r.status_code == 400
    for t in (t1, t2):
        assert dav(server, "UNLOCK", cal + "s.ics",
                   headers={"Lock-Token": f"<{t}>"}).status_code == 204


def test_rfc4918_9_6_delete_ends_the_lock(server):
    cal = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, cal + "d.ics", ics(uid)).status_code == 201
    tok = token_of(lock(server, cal + "d.ics"))
    r = dav(server, "DELETE", cal + "d.ics", headers={"If": f"(<{tok}>)"})
    assert r.status_code == 204
    # the resource is gone and so is its lock: a new one at that URL needs no token
    assert put(server, cal + "d.ics", ics(uid)).status_code == 201
    ms = multistatus(propfind(server, cal + "d.ics", "<d:lockdiscovery/>"))
    assert ms[cal + "d.ics"]["props"][D + "lockdiscovery"].find(D + "activelock") is None


def test_rfc9110_15_5_6_method_not_allowed_lists_allow(server):
    cal = new_calendar(server)
    assert put(server, cal + "a.ics", ics(str(uuid.uuid4()))).status_code == 201
    r = dav(server, "POST", cal + "a.ics", "x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 405
    assert "PUT" in {m.strip() for m in r.headers["Allow"].split(",")}


def test_rfc4918_6_a_lock_outlives_a_restart_of_the_server(fresh_server):
    """§6: a lock lasts until UNLOCK or its timeout; it is kept in the store, not in the
    process that granted it."""
    s = fresh_server
    cal = new_calendar(s)
    uid = str(uuid.uuid4())
    assert put(s, cal + "r.ics", ics(uid)).status_code == 201
    tok = token_of(lock(s, cal + "r.ics", timeout="Second-600"))
    s.stop()
    s.start()
    r = put(s, cal + "r.ics", ics(uid, "After restart"))
    assert r.status_code == 423 and D + "lock-token-submitted" in error_condition(r)
    ms = multistatus(propfind(s, cal + "r.ics", "<d:lockdiscovery/>"))
    al = ms[cal + "r.ics"]["props"][D + "lockdiscovery"].find(D + "activelock")
    assert al.find(f"{D}locktoken/{D}href").text == tok
    assert dav(s, "UNLOCK", cal + "r.ics", headers={"Lock-Token": f"<{tok}>"}).status_code == 204
    assert put(s, cal + "r.ics", ics(uid, "Unlocked")).status_code in (200, 204)


@pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")
def test_rfc4918_6_locks_hold_across_postgresql_front_ends(pair):
    """DESIGN.md §3: front ends A and B on one database; a lock taken through A binds
    writers on B (§7: 423 without its token), shows in B's lockdiscovery (§15.8),
    conflicts with a LOCK on B (§9.10.6), is refreshed and released through B (§9.10.2,
    §9.11) and expires by its timeout for both (§6.6)."""
    a, b = pair
    cal = new_calendar(a)
    uid = str(uuid.uuid4())
    assert put(a, cal + "x.ics", ics(uid)).status_code == 201
    tok = token_of(lock(a, cal + "x.ics", timeout="Second-600"))
    r = put(b, cal + "x.ics", ics(uid, "B without the token"))
    assert r.status_code == 423 and D + "lock-token-submitted" in error_condition(r)
    assert dav(b, "DELETE", cal + "x.ics").status_code == 423
    r = lock(b, cal + "x.ics")
    assert r.status_code == 423 and D + "no-conflicting-lock" in error_condition(r)
    ms = multistatus(propfind(b, cal + "x.ics", "<d:lockdiscovery/>"))
    al = ms[cal + "x.ics"]["props"][D + "lockdiscovery"].find(D + "activelock")
    assert al.find(f"{D}locktoken/{D}href").text == tok
    # the holder writes through B with the token; A reads it
    r = put(b, cal + "x.ics", ics(uid, "B with the token"), headers={"If": f"(<{tok}>)"})
    assert r.status_code in (200, 204), r.text
    assert "B with the token" in a.http().get(a.base + cal + "x.ics").text
    # refreshed through B to a short timeout, then expired on A too
    r = dav(b, "LOCK", cal + "x.ics", headers={"If": f"(<{tok}>)", "Timeout": "Second-2"})
    assert r.status_code == 200
    assert put(a, cal + "x.ics", ics(uid, "A too early")).status_code == 423
    time.sleep(3.2)
    assert put(a, cal + "x.ics", ics(uid, "A after the timeout")).status_code in (200, 204)
    # a collection lock of depth infinity taken on B, released on A
    tok = token_of(lock(b, cal, depth="infinity"))
    assert put(a, cal + "y.ics", ics(str(uuid.uuid4()))).status_code == 423
    r = dav(a, "UNLOCK", cal, headers={"Lock-Token": f"<{tok}>"})
    assert r.status_code == 204
    assert put(b, cal + "y.ics", ics(str(uuid.uuid4()))).status_code == 201


def members(server, coll):
    return set(multistatus(propfind(server, coll, "<d:getetag/>", depth=1))) - {coll}


def test_rfc4918_9_10_4_lock_of_an_unmapped_url_reserves_it_for_the_holder(server):
    """§7.3, §9.10.4: LOCK of an unmapped URL succeeds (201) and locks the name: nobody
    else can create the resource there, the holder's PUT with the token does. Addressed
    itself the URL is the empty locked resource (GET 204, PROPFIND: empty resourcetype,
    getcontentlength 0, the lock); a listing of the calendar shows it (§9.10.4, see
    the next test)."""
    cal = new_calendar(server)
    # a name of its own: names are the account's, and test_dav_copy_move renames to new.ics
    new = "new-" + uuid.uuid4().hex[:8] + ".ics"
    r = lock(server, cal + new, timeout="Second-600")
    tok = token_of(r, 201)
    assert activelock(r).find(f"{D}lockroot/{D}href").text == cal + new
    g = server.http().get(server.base + cal + new)
    assert g.status_code == 204 and g.content == b""
    ms = multistatus(propfind(server, cal + new, "<d:resourcetype/><d:getcontentlength/>"
                              "<d:lockdiscovery/><d:getetag/>"))
    p = ms[cal + new]
    assert len(p["props"][D + "resourcetype"]) == 0 and p["props"][D + "getcontentlength"].text == "0"
    assert p["props"][D + "lockdiscovery"].find(f"{D}activelock/{D}locktoken/{D}href").text == tok
    assert D + "getetag" in p["missing"]
    assert members(server, cal) == {cal + new}
    # §7: another writer (bob may write in alice's account) and the holder without the
    # token cannot create it; a second LOCK conflicts
    uid = str(uuid.uuid4())
    r = put(server, cal + new, ics(uid, "Bob's"), user="bob")
    assert r.status_code == 423 and D + "lock-token-submitted" in error_condition(r)
    assert put(server, cal + new, ics(uid, "No token")).status_code == 423
    assert lock(server, cal + new, user="bob").status_code == 423
    assert members(server, cal) == {cal + new}
    # the holder creates it with the token: now a locked resource like any other
    r = put(server, cal + new, ics(uid, "Holder's"),
            headers={"If": f"(<{tok}>)", "If-None-Match": "*"})
    assert r.status_code == 201, r.text
    assert "Holder's" in server.http().get(server.base + cal + new).text
    assert members(server, cal) == {cal + new}
    assert put(server, cal + new, ics(uid, "Bob again"), user="bob").status_code == 423
    assert dav(server, "UNLOCK", cal + new, headers={"Lock-Token": f"<{tok}>"}).status_code == 204
    assert put(server, cal + new, ics(uid, "Bob after"), user="bob").status_code == 204


def test_rfc4918_7_3_an_unused_reservation_leaves_nothing(server):
    """§7.3 with RFC 6352 §5.2 a: a reserved name in an address book that is unlocked
    without a PUT stays unmapped, and anyone may create it afterwards; a reservation in
    a collection that does not exist is 409 (as a PUT there, §9.7.1)."""
    book = new_addressbook(server)
    r = lock(server, book + "c.vcf", scope="shared")
    tok = token_of(r, 201)
    r = put(server, book + "c.vcf", vcf(str(uuid.uuid4())), ctype="text/vcard", user="bob")
    assert r.status_code == 423
    assert dav(server, "UNLOCK", book + "c.vcf", headers={"Lock-Token": f"<{tok}>"}).status_code == 204
    assert server.http().get(server.base + book + "c.vcf").status_code == 404
    assert propfind(server, book + "c.vcf", "<d:resourcetype/>").status_code == 404
    assert members(server, book) == set()
    # §7.3: the empty resource "can be deleted": with the token, and the lock goes with it
    tok = token_of(lock(server, book + "d.vcf"), 201)
    assert dav(server, "DELETE", book + "d.vcf").status_code == 423
    assert dav(server, "DELETE", book + "d.vcf", headers={"If": f"(<{tok}>)"}).status_code == 204
    assert server.http().get(server.base + book + "d.vcf").status_code == 404
    r = put(server, book + "d.vcf", vcf(str(uuid.uuid4())), ctype="text/vcard", user="bob")
    assert r.status_code == 201, r.text
    r = put(server, book + "c.vcf", vcf(str(uuid.uuid4())), ctype="text/vcard", user="bob")
    assert r.status_code == 201, r.text
    assert lock(server, book.rstrip("/") + "-gone/c.vcf").status_code == 409
    # an unmapped collection URL: reserved for the holder's MKCALENDAR
    home = new_calendar(server).rsplit("/", 2)[0] + "/"
    tok = token_of(lock(server, home + "reserved-cal/"), 201)
    r = dav(server, "MKCALENDAR", home + "reserved-cal/", user="bob")
    assert r.status_code == 423
    r = dav(server, "MKCALENDAR", home + "reserved-cal/", headers={"If": f"(<{tok}>)"})
    assert r.status_code == 201, r.text
    assert dav(server, "UNLOCK", home + "reserved-cal/", headers={"Lock-Token": f"<{tok}>"}).status_code == 204


def sync_hrefs(server, coll):
    body = (f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
            '<d:prop><d:getetag/></d:prop></d:sync-collection>')
    return set(multistatus(dav(server, "REPORT", coll, body, depth=0)))


def test_rfc4918_9_10_4_a_reserved_url_is_listed_by_depth_1_propfind_not_by_reports_rfc4791_4_2(
        server):
    """§9.10.4: the empty resource a LOCK of an unmapped URL makes "MUST then appear in
    PROPFIND responses including that URL in the response scope": a Depth 1 PROPFIND of
    its collection lists it, with its properties (empty resourcetype, getcontentlength 0,
    its lock) and no ETag, once however many shared locks it has. RFC 4791 §4.2 a: it is
    no calendar object resource, so the reports about those (sync-collection, RFC 6578
    §3; calendar-query, RFC 4791 §7.8) leave it out and the sync token does not move;
    once unlocked it is gone from the listing too."""
    cal = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, cal + "real.ics", ics(uid)).status_code == 201
    token_before = sync_token(dav(server, "REPORT", cal, (
        f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
        '<d:prop><d:getetag/></d:prop></d:sync-collection>'), depth=0))
    tok = token_of(lock(server, cal + "reserved.ics", scope="shared"), 201)
    tok2 = token_of(lock(server, cal + "reserved.ics", scope="shared", user="bob"), 201)
    ms = multistatus(propfind(server, cal, "<d:getetag/><d:resourcetype/><d:getcontentlength/>"
                              "<d:lockdiscovery/>", depth=1))
    assert set(ms) == {cal, cal + "real.ics", cal + "reserved.ics"}
    p = ms[cal + "reserved.ics"]
    assert len(p["props"][D + "resourcetype"]) == 0
    assert p["props"][D + "getcontentlength"].text == "0"
    held = {h.text for h in p["props"][D + "lockdiscovery"].findall(
        f"{D}activelock/{D}locktoken/{D}href")}
    assert held == {tok, tok2}
    assert D + "getetag" in p["missing"] and D + "getetag" in ms[cal + "real.ics"]["props"]
    # the ETag-only listing (written from the member index) shows it too, without an ETag
    assert members(server, cal) == {cal + "real.ics", cal + "reserved.ics"}
    # not in the reports about calendar object resources; the sync token is unchanged
    r = dav(server, "REPORT", cal, (
        f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
        '<d:prop><d:getetag/></d:prop></d:sync-collection>'), depth=0)
    assert set(multistatus(r)) == {cal + "real.ics"} and sync_token(r) == token_before
    q = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
         '<c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>')
    assert set(multistatus(dav(server, "REPORT", cal, q, depth=1))) == {cal + "real.ics"}
    # a Depth 0 PROPFIND of the collection lists no member
    assert set(multistatus(propfind(server, cal, "<d:getetag/>", depth=0))) == {cal}
    for t, user in ((tok, "alice"), (tok2, "bob")):
        r = dav(server, "UNLOCK", cal + "reserved.ics", headers={"Lock-Token": f"<{t}>"},
                user=user)
        assert r.status_code == 204
    assert members(server, cal) == {cal + "real.ics"}


def test_rfc3744_7_5_acl_method_needs_the_lock_token_rfc4918_7(server):
    """RFC 3744 §7.5: "a lock on a resource ensures that only the lock owner can modify
    ACEs"; RFC 4918 §7: a request that modifies a write-locked resource must submit the
    lock's token, else 423 with lock-token-submitted (§16), and nothing changes. A lock
    of one of its members does not cover the collection."""
    from test_dav_caldav import cal_id
    cal = new_calendar(server)
    acct = server.account()
    cid = cal_id(server, cal)
    body = (f'<?xml version="1.0"?><d:acl {NSDECL}><d:ace><d:principal><d:href>'
            '/dav/principals/carol/</d:href></d:principal><d:grant><d:privilege><d:read/>'
            '</d:privilege></d:grant></d:ace></d:acl>')

    def shared():
        _, got = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})
        return got["list"][0].get("shareWith")

    assert put(server, cal + "m.ics", ics(str(uuid.uuid4()))).status_code == 201
    member_tok = token_of(lock(server, cal + "m.ics"))
    r = dav(server, "ACL", cal, body)
    assert r.status_code == 200, r.text  # a member's lock does not cover its collection
    empty = (f'<?xml version="1.0"?><d:acl {NSDECL}></d:acl>')
    assert dav(server, "ACL", cal, empty).status_code == 200
    r = dav(server, "UNLOCK", cal + "m.ics", headers={"Lock-Token": f"<{member_tok}>"})
    assert r.status_code == 204
    tok = token_of(lock(server, cal, depth="infinity"))
    for user in ("alice", "bob"):  # the holder without the token, and another writer
        r = dav(server, "ACL", cal, body, user=user)
        assert r.status_code == 423 and D + "lock-token-submitted" in error_condition(r)
    assert not shared()
    r = dav(server, "ACL", cal, body, headers={"If": f"(<{tok}>)"})
    assert r.status_code == 200, r.text
    assert list(shared() or {}) == [server.account("carol")]
    assert dav(server, "UNLOCK", cal, headers={"Lock-Token": f"<{tok}>"}).status_code == 204
    assert dav(server, "ACL", cal, empty).status_code == 200
    assert not shared()


def test_rfc4918_6_a_deleted_users_locks_go_with_the_user(fresh_server):
    """§6: a lock belongs to its creator; `jmapd user del` removes the user's locks with
    the user (before, they bound every writer until their timeout, and a later user given
    the same id would have inherited them)."""
    s = fresh_server
    cal = new_calendar(s)
    uid = str(uuid.uuid4())
    assert put(s, cal + "held.ics", ics(uid)).status_code == 201
    token_of(lock(s, cal + "held.ics", user="bob", timeout="Second-3600"))
    token_of(lock(s, cal + "reserved.ics", user="bob", timeout="Second-3600"), 201)
    mine = token_of(lock(s, cal + "mine.ics", timeout="Second-3600"), 201)
    assert put(s, cal + "held.ics", ics(uid, "Alice")).status_code == 423
    r = conftest.run_cli(s.data, "user", "del", "bob", "--config", s.config)
    assert r.returncode == 0, r.stderr
    assert put(s, cal + "held.ics", ics(uid, "Alice")).status_code in (200, 204)
    ms = multistatus(propfind(s, cal + "held.ics", "<d:lockdiscovery/>"))
    assert ms[cal + "held.ics"]["props"][D + "lockdiscovery"].find(D + "activelock") is None
    assert s.http().get(s.base + cal + "reserved.ics").status_code == 404
    assert put(s, cal + "reserved.ics", ics(str(uuid.uuid4()))).status_code == 201
    # alice's own lock stays
    assert members(s, cal) == {cal + "held.ics", cal + "reserved.ics", cal + "mine.ics"}
    r = dav(s, "UNLOCK", cal + "mine.ics", headers={"Lock-Token": f"<{mine}>"})
    assert r.status_code == 204


def test_rfc4918_9_10_4_lock_of_an_unmapped_collection_url_reserves_it_in_the_home(server):
    """§9.10.4 in a home: a LOCK of an unmapped URL where a collection could be made is the
    same empty locked resource as a member's: PROPFIND answers it (an empty resourcetype,
    its lock), the home's Depth 1 PROPFIND lists it, GET is 204; a MKCALENDAR without
    the token is 423 (§7), the holder's with it makes the calendar there; UNLOCK of an
    unused one leaves nothing."""
    s = server
    home = homes(s)[0]
    path = home + "reserved-" + uuid.uuid4().hex[:8] + "/"
    token = token_of(lock(s, path, timeout="Second-600"), 201)
    entry = multistatus(propfind(s, path, "<d:resourcetype/><d:lockdiscovery/>"))[path]
    assert len(entry["props"][D + "resourcetype"]) == 0
    assert entry["props"][D + "lockdiscovery"].find(f"{D}activelock/{D}locktoken/{D}href").text \
        == token
    assert path in multistatus(propfind(s, home, "<d:resourcetype/>", depth=1))
    assert s.http().get(s.base + path).status_code == 204
    assert dav(s, "MKCALENDAR", path).status_code == 423
    r = dav(s, "MKCALENDAR", path, headers={"If": f"(<{token}>)"})
    assert r.status_code == 201, r.text
    entry = multistatus(propfind(s, path, "<d:resourcetype/>"))[path]
    assert entry["props"][D + "resourcetype"].find(C + "calendar") is not None
    assert dav(s, "UNLOCK", path, headers={"Lock-Token": f"<{token}>"}).status_code == 204
    # an unused reservation: nothing remains after UNLOCK
    other = home + "unused-" + uuid.uuid4().hex[:8] + "/"
    token = token_of(lock(s, other, timeout="Second-600"), 201)
    assert dav(s, "UNLOCK", other, headers={"Lock-Token": f"<{token}>"}).status_code == 204
    assert propfind(s, other, "<d:resourcetype/>").status_code == 404
    assert other not in multistatus(propfind(s, home, "<d:resourcetype/>", depth=1))


def lock_paths(s):
    """The paths of the dav_locks rows of server s's store."""
    if conftest.PG:
        import pgharness
        schema = conftest.PG_CLUSTER.schema_for(s.data)
        out = conftest.PG_CLUSTER.psql(pgharness.DB,
                                       f"COPY (SELECT path FROM {schema}.dav_locks) TO STDOUT")
        return set(out.split())
    import os
    import sqlite3
    db = sqlite3.connect(os.path.join(s.data, "jmapd.db"))
    try:
        return {row[0] for row in db.execute("SELECT path FROM dav_locks")}
    finally:
        db.close()


def test_rfc4918_6_other_users_locks_go_with_a_deleted_account(fresh_server):
    """§6: when an account goes (`jmapd user del`), so do the locks anyone holds on its URLs
    (bob's on alice's calendar, on a URL he reserved there): nobody can reach those URLs
    again, and the locks would count against the server's limit until their timeout. The
    locks bob holds on his own URLs stay."""
    s = fresh_server
    cal = new_calendar(s)
    alice = homes(s)[0]
    assert put(s, cal + "held.ics", ics(str(uuid.uuid4()))).status_code == 201
    token_of(lock(s, cal + "held.ics", user="bob", timeout="Second-3600"))
    token_of(lock(s, cal + "reserved.ics", user="bob", timeout="Second-3600"), 201)
    token_of(lock(s, alice + "newcal/", user="bob", timeout="Second-3600"), 201)
    bobs = new_calendar(s, user="bob")
    token_of(lock(s, bobs, user="bob", timeout="Second-3600"))
    assert len(lock_paths(s)) == 4
    r = conftest.run_cli(s.data, "user", "del", "alice", "--config", s.config)
    assert r.returncode == 0, r.stderr
    assert lock_paths(s) == {bobs.rstrip("/")}
