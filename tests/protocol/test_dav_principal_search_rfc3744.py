"""Principal searches over WebDAV (RFC 3744 §9.4 DAV:principal-property-search, §9.5
DAV:principal-search-property-set; issue 20): Apple's sharing and attendee look-up find
principals by name or address (RFC 6638 §2.4.1 calendar-user-address-set). A search
finds what JMAP's Principal/query finds (RFC 9670 §2: every principal of the directory,
users and groups); the user's own principal and their groups' answer as their PROPFIND
does, any other with the directory's properties alone. Caseless substring matches
(§9.4's preferred default), Apple's match-type and test="anyof"; a group's principal
is also reached by the group's name."""
import uuid
import xml.etree.ElementTree as ET

import pytest

from davutil import C, CS, D, NSDECL, dav, error_condition, multistatus, propfind
from groupware_util import GroupServer


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.group_name = "search-team-" + uuid.uuid4().hex[:6]
    r = s.cli("group", "add", s.group_name)
    assert r.returncode == 0, r.stderr
    s.group = r.stdout.split()[-1]
    r = s.cli("group", "member", s.group_name, "--add", "bob")
    assert r.returncode == 0, r.stderr
    me = s.own("alice")
    _, res = s.c("Principal/set", {"accountId": me, "update": {me: {"name": "Alice Liddell"}}})
    assert res["updated"] == {me: None}, res
    yield s
    s.close()


def search(gs, terms, props="<d:displayname/>", user="bob", path="/dav/principals/",
           depth=0, test=None, extra=""):
    """terms: [(prop elements, match text, match-type or None)]"""
    body = "".join(
        f'<d:property-search><d:prop>{p}</d:prop><d:match'
        + (f' match-type="{how}"' if how else "") + f'>{m}</d:match></d:property-search>'
        for p, m, how in terms)
    attr = f' test="{test}"' if test else ""
    prop = f"<d:prop>{props}</d:prop>" if props is not None else ""
    return dav(gs, "REPORT", path, f'<?xml version="1.0"?><d:principal-property-search '
               f'{NSDECL}{attr}>{body}{prop}{extra}</d:principal-property-search>'.encode(),
               user=user, depth=depth)  # UTF-8 (a str body would go as Latin-1)


def hrefs(elem):
    return {h.text for h in elem.findall(D + "href")}


def test_rfc3744_9_4_2_displayname_caseless_substring_finds_the_principal(gs):
    """§9.4.2's example shape: a displayname substring in another case ("doE"); the
    response names the principal's URL with the requested properties (§9.4: caseless
    substring matching is the preferred default)."""
    ms = multistatus(search(gs, [("<d:displayname/>", "lIDDe", None)],
                            props="<d:displayname/><c:calendar-user-address-set/><d:getetag/>"))
    assert set(ms) == {"/dav/principals/alice/"}
    alice = ms["/dav/principals/alice/"]
    assert alice["props"][D + "displayname"].text == "Alice Liddell"
    assert hrefs(alice["props"][C + "calendar-user-address-set"]) == {
        "mailto:alice@localhost", "/dav/principals/alice/"}
    assert D + "getetag" in alice["missing"]  # a property the principal has not: 404


def test_rfc3744_9_4_a_users_login_name_matches_displayname_too(gs):
    ms = multistatus(search(gs, [("<d:displayname/>", "FRAN", None)]))
    assert set(ms) == {"/dav/principals/frank/"}
    assert ms["/dav/principals/frank/"]["props"][D + "displayname"].text == "frank"


def test_rfc3744_9_4_caseless_is_unicode_casemap_not_ascii(gs):
    """§9.4: "caseless" matching, done with the server's Unicode caseless collation
    (i;unicode-casemap, RFC 5051 §2: case folded, then NFKD), as JMAP's text filters: a
    name with non-ASCII letters is found by another case of them (an ASCII-caseless
    match finds "ØSTERGÅRD" in nothing but itself), with each match-type; a letter
    without its accent is another letter (RFC 5051 keeps the accents)."""
    me = gs.own("erin")
    _, got = gs.c("Principal/get", {"accountId": me, "ids": [me], "properties": ["name"]},
                  user="erin")
    was = got["list"][0]["name"]
    _, res = gs.c("Principal/set", {"accountId": me, "update": {me: {"name": "Érin Østergård"}}},
                  user="erin")
    assert res["updated"] == {me: None}, res
    try:
        for match, how in [("ØSTERGÅRD", None), ("éRIN østERGÅrd", "equals"),
                           ("ÉRIN Ø", "starts-with"), ("STERGÅRD", "ends-with")]:
            ms = multistatus(search(gs, [("<d:displayname/>", match, how)]))
            assert set(ms) == {"/dav/principals/erin/"}, (match, how)
            assert ms["/dav/principals/erin/"]["props"][D + "displayname"].text == "Érin Østergård"
        assert not multistatus(search(gs, [("<d:displayname/>", "ERIN ØSTERGÅRD", "equals")]))
    finally:
        gs.c("Principal/set", {"accountId": me, "update": {me: {"name": was}}}, user="erin")


def test_rfc6638_2_4_1_search_by_calendar_user_address_and_email(gs):
    """Apple's attendee look-up: by calendar-user-address-set (RFC 6638 §2.4.1) and by
    CS:email-address-set, with match-type starts-with and equals."""
    ms = multistatus(search(gs, [("<c:calendar-user-address-set/>", "mailto:DAN@", "starts-with")],
                            props="<cs:email-address-set/><c:calendar-user-type/>"))
    assert set(ms) == {"/dav/principals/dan/"}
    dan = ms["/dav/principals/dan/"]["props"]
    assert [e.text for e in dan[CS + "email-address-set"]] == ["dan@localhost"]
    assert dan[C + "calendar-user-type"].text == "INDIVIDUAL"
    ms = multistatus(search(gs, [("<cs:email-address-set/>", "erin@localhost", "equals")]))
    assert set(ms) == {"/dav/principals/erin/"}
    assert not multistatus(search(gs, [("<cs:email-address-set/>", "erin@local", "equals")]))


def test_rfc3744_9_4_property_searches_are_anded_or_anyof(gs):
    """§9.4: several property-search elements (and several properties in one prop) are
    ANDed; Apple's test="anyof" ORs them."""
    terms = [("<d:displayname/>", "alice", None), ("<c:calendar-user-address-set/>", "dan@", None)]
    assert multistatus(search(gs, terms)) == {}
    assert set(multistatus(search(gs, terms, test="anyof"))) == {"/dav/principals/alice/",
                                                                 "/dav/principals/dan/"}
    both = [("<d:displayname/><c:calendar-user-address-set/>", "erin", None)]
    assert set(multistatus(search(gs, both))) == {"/dav/principals/erin/"}


def test_rfc3744_9_4_a_property_not_searchable_matches_nothing(gs):
    assert multistatus(search(gs, [("<d:getetag/>", "a", None)])) == {}
    # and beside a searchable one in the same prop (ANDed): still nothing
    assert multistatus(search(gs, [("<d:displayname/><d:getetag/>", "alice", None)])) == {}


def test_rfc3744_9_4_own_principal_and_groups_answer_as_their_propfind(gs):
    """The user's own principal shows what their PROPFIND shows (a calendar home); a
    group they are in its members (§4.3); one they are not in (erin's view) its
    directory properties alone; any principal is found by the same rule as
    Principal/query (RFC 9670 §2.4.1: the whole directory)."""
    group_url = f"/dav/principals/{gs.group}/"
    props = "<d:displayname/><c:calendar-home-set/><d:group-member-set/><c:calendar-user-type/>"
    ms = multistatus(search(gs, [("<d:displayname/>", gs.group_name, None)], props=props))
    assert set(ms) == {group_url}
    g = ms[group_url]["props"]
    assert g[D + "displayname"].text == gs.group_name
    assert hrefs(g[D + "group-member-set"]) == {"/dav/principals/bob/"}
    assert g[C + "calendar-user-type"].text == "GROUP"
    ms = multistatus(search(gs, [("<d:displayname/>", gs.group_name, None)], props=props,
                            user="erin"))
    assert set(ms) == {group_url}
    assert ms[group_url]["props"][D + "displayname"].text == gs.group_name
    assert D + "group-member-set" in ms[group_url]["missing"]  # not erin's to read
    ms = multistatus(search(gs, [("<d:displayname/>", "bob", "equals")], props=props))
    bob = ms["/dav/principals/bob/"]
    assert hrefs(bob["props"][C + "calendar-home-set"]), bob
    # another user's principal: no home of theirs, no privileges of theirs
    ms = multistatus(search(gs, [("<d:displayname/>", "dan", "equals")], props=props))
    assert C + "calendar-home-set" in ms["/dav/principals/dan/"]["missing"]


def test_rfc3744_9_4_without_prop_the_hrefs_alone(gs):
    r = search(gs, [("<d:displayname/>", "dan", "equals")], props=None)
    assert multistatus(r)["/dav/principals/dan/"]["status"] == 200


def test_rfc3744_9_4_scope_is_the_request_collection_or_the_principal_collection_set(gs):
    """§9.4: by default the members of the request's collection (a calendar home holds no
    principals); apply-to-principal-collection-set searches /dav/principals/ (§5.8)."""
    home = f"/dav/calendars/{gs.own('bob')}/"
    terms = [("<d:displayname/>", "dan", "equals")]
    assert multistatus(search(gs, terms, path=home)) == {}
    ms = multistatus(search(gs, terms, path=home,
                            extra="<d:apply-to-principal-collection-set/>"))
    assert set(ms) == {"/dav/principals/dan/"}
    assert set(multistatus(search(gs, terms, path="/"))) == {"/dav/principals/dan/"}


def test_rfc3744_9_4_depth_0_only_and_a_well_formed_search(gs):
    assert search(gs, [("<d:displayname/>", "dan", None)], depth=1).status_code == 400
    bad = dav(gs, "REPORT", "/dav/principals/", f'<d:principal-property-search {NSDECL}>'
              '<d:property-search><d:prop><d:displayname/></d:prop></d:property-search>'
              '</d:principal-property-search>', user="bob", depth=0)
    assert bad.status_code == 400
    none = dav(gs, "REPORT", "/dav/principals/", f'<d:principal-property-search {NSDECL}>'
               '<d:prop><d:displayname/></d:prop></d:principal-property-search>', user="bob")
    assert none.status_code == 400


def test_rfc3744_9_5_1_principal_search_property_set(gs):
    """§9.5.1's example: each searchable property with its description and xml:lang."""
    r = dav(gs, "REPORT", "/dav/principals/", '<?xml version="1.0" encoding="utf-8" ?>'
            '<D:principal-search-property-set xmlns:D="DAV:"/>', user="bob", depth=0)
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.tag == D + "principal-search-property-set"
    got = []
    for p in root.findall(D + "principal-search-property"):
        (prop,) = list(p.find(D + "prop"))
        desc = p.find(D + "description")
        assert desc.text and desc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
        got.append(prop.tag)
    assert got[0] == D + "displayname"  # the most used first (§9.5 implementation note)
    assert {C + "calendar-user-address-set", CS + "email-address-set"} <= set(got)
    # not a collection of principals: not supported there (RFC 3253 §3.6)
    home = f"/dav/calendars/{gs.own('bob')}/"
    r = dav(gs, "REPORT", home, '<D:principal-search-property-set xmlns:D="DAV:"/>', user="bob")
    assert r.status_code == 403 and "supported-report" in r.text
    r = dav(gs, "REPORT", "/dav/principals/", '<D:principal-search-property-set xmlns:D="DAV:"/>',
            user="bob", depth=1)
    assert r.status_code == 400


def test_rfc3253_3_1_2_principals_list_the_search_reports(gs):
    for path in ("/dav/principals/", "/dav/principals/bob/"):
        ms = multistatus(propfind(gs, path, "<d:supported-report-set/>", user="bob"))
        reports = {rep[0].tag for rep in ms[path]["props"][D + "supported-report-set"].iter(
            D + "report")}
        assert {D + "principal-property-search", D + "principal-search-property-set"} <= reports


def test_rfc3744_4_a_group_principal_by_its_name(gs):
    """A group's principal is at its id's URL (what DAV:acl writes); its name reaches it
    too, as the ACL method takes it (RFC 9670 §2: shareWith may name a group); for one
    not in the group, by name as by id, with the directory's properties alone."""
    path = f"/dav/principals/{gs.group_name}/"
    r = propfind(gs, path, "<d:principal-URL/><d:displayname/>", user="bob")
    ms = multistatus(r)
    (entry,) = ms.values()
    assert hrefs(entry["props"][D + "principal-URL"]) == {f"/dav/principals/{gs.group}/"}
    assert entry["props"][D + "displayname"].text == gs.group_name
    ms = multistatus(propfind(gs, path, "<d:displayname/><d:group-member-set/>", user="erin"))
    (entry,) = ms.values()
    assert entry["props"][D + "displayname"].text == gs.group_name
    assert D + "group-member-set" in entry["missing"]  # not erin's to read


def test_rfc3744_9_4_a_found_principal_reads_at_its_url_with_the_directory_alone(gs):
    """A search answers with principal URLs (§9.4) and a client reads each there (Apple's
    attendee and sharee look-up): another user's principal answers with the directory's
    properties (RFC 9670 §2: the user sees every principal) and nothing of their
    calendars; it is not the user's to change (§7.1.1 need-privileges); a name the
    directory does not have is 404 (RFC 4918 §9.1)."""
    (url,) = multistatus(search(gs, [("<d:displayname/>", "lIDDe", None)], user="dan"))
    assert url == "/dav/principals/alice/"
    props = ("<d:resourcetype/><d:displayname/><d:principal-URL/>"
             "<c:calendar-user-address-set/><c:calendar-user-type/><c:calendar-home-set/>"
             "<d:current-user-privilege-set/>")
    ms = multistatus(propfind(gs, url, props, user="dan"))
    alice = ms[url]
    assert alice["props"][D + "resourcetype"].find(D + "principal") is not None
    assert alice["props"][D + "displayname"].text == "Alice Liddell"
    assert hrefs(alice["props"][D + "principal-URL"]) == {url}
    assert hrefs(alice["props"][C + "calendar-user-address-set"]) == {
        "mailto:alice@localhost", url}
    assert alice["props"][C + "calendar-user-type"].text == "INDIVIDUAL"
    assert C + "calendar-home-set" in alice["missing"]
    r = dav(gs, "PROPPATCH", url, f'<?xml version="1.0"?><d:propertyupdate {NSDECL}><d:set>'
            '<d:prop><d:displayname>Mallory</d:displayname></d:prop></d:set></d:propertyupdate>',
            user="dan")
    assert r.status_code == 403, r.text
    assert D + "need-privileges" in error_condition(r)
    for method in ("DELETE", "MKCOL", "LOCK", "ACL", "PUT"):
        assert dav(gs, method, url, user="dan").status_code == 403, method
    ms = multistatus(propfind(gs, url, "<d:displayname/>", user="dan"))
    assert ms[url]["props"][D + "displayname"].text == "Alice Liddell"
    assert propfind(gs, "/dav/principals/nobody-" + uuid.uuid4().hex[:6] + "/",
                    "<d:displayname/>", user="dan").status_code == 404
