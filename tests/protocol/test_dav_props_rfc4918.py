"""PROPFIND and PROPPATCH details of RFC 4918 read from outside: allprop with include
(§9.1, §14.8), the live properties allprop lists (§9.1; not DAV:sync-token, RFC 6578 §4,
nor DAV:current-user-principal, RFC 5397 §3), getcontentlength (§15.4), and a PROPPATCH
that fails as a whole (§9.2: each property once, the refused one 403 with
cannot-modify-protected-property, the others 424)."""
import uuid
import xml.etree.ElementTree as ET

from davutil import A, C, D, NSDECL, dav, ics, multistatus, new_calendar, propfind, put


def test_rfc4918_9_1_allprop_with_include(server):
    path = new_calendar(server)
    body = (f'<?xml version="1.0"?><d:propfind {NSDECL}><d:allprop/><d:include>'
            '<c:supported-calendar-component-set/><c:no-such-property/></d:include>'
            '</d:propfind>')
    ms = multistatus(dav(server, "PROPFIND", path, body, depth=0))
    props = ms[path]["props"]
    assert D + "resourcetype" in props and D + "displayname" in props
    comps = props[C + "supported-calendar-component-set"]
    assert [c.get("name") for c in comps] == ["VEVENT"]
    assert C + "no-such-property" in ms[path]["missing"]


def test_rfc4918_9_1_allprop_lists_the_live_properties_and_not_the_should_nots(server):
    path = new_calendar(server)
    assert put(server, path + "a.ics", ics(str(uuid.uuid4()))).status_code == 201
    body = f'<?xml version="1.0"?><d:propfind {NSDECL}><d:allprop/></d:propfind>'
    ms = multistatus(dav(server, "PROPFIND", path, body, depth=1))
    member = ms[path + "a.ics"]["props"]
    for live in ("resourcetype", "getetag", "getcontenttype", "getcontentlength",
                 "supportedlock", "lockdiscovery"):
        assert D + live in member, live
    collection = ms[path]["props"]
    assert D + "sync-token" not in collection  # RFC 6578 §4
    assert D + "current-user-principal" not in collection  # RFC 5397 §3
    # propname lists the same names, without values
    body = f'<?xml version="1.0"?><d:propfind {NSDECL}><d:propname/></d:propfind>'
    names = multistatus(dav(server, "PROPFIND", path + "a.ics", body, depth=0))
    got = names[path + "a.ics"]["props"]
    assert D + "getcontentlength" in got and all(len(v) == 0 and not v.text
                                                 for v in got.values())


def test_rfc4918_15_4_getcontentlength_is_the_length_of_the_get_body(server):
    path = new_calendar(server)
    assert put(server, path + "a.ics", ics(str(uuid.uuid4()))).status_code == 201
    body = server.http().get(server.base + path + "a.ics").content
    ms = multistatus(propfind(server, path + "a.ics", "<d:getcontentlength/>"))
    assert int(ms[path + "a.ics"]["props"][D + "getcontentlength"].text) == len(body)


def test_rfc4918_9_2_proppatch_all_or_nothing_lists_each_property_once(server):
    path = new_calendar(server)
    body = (f'<?xml version="1.0"?><d:propertyupdate {NSDECL}><d:set><d:prop>'
            '<d:displayname>Renamed</d:displayname><a:calendar-color>#112233</a:calendar-color>'
            '<d:getetag>"1"</d:getetag></d:prop></d:set></d:propertyupdate>')
    r = dav(server, "PROPPATCH", path, body)
    assert r.status_code == 207
    resp = ET.fromstring(r.content).find(D + "response")
    seen = {}
    for ps in resp.findall(D + "propstat"):
        status = ps.find(D + "status").text.split()[1]
        for p in ps.find(D + "prop"):
            assert p.tag not in seen, p.tag  # each property in one propstat
            seen[p.tag] = (status, ps)
    assert seen[D + "getetag"][0] == "403"
    err = seen[D + "getetag"][1].find(D + "error")
    assert err is not None and err.find(D + "cannot-modify-protected-property") is not None
    assert seen[D + "displayname"][0] == "424" and seen[A + "calendar-color"][0] == "424"
    # nothing was set
    ms = multistatus(propfind(server, path, "<d:displayname/>"))
    assert ms[path]["props"][D + "displayname"].text != "Renamed"


def test_rfc6578_3_7_limit_is_kept_or_the_report_fails(server):
    """§3.7: a DAV:limit the server cannot cut the result at fails the report with
    DAV:number-of-matches-within-limits (§3.12); one it can cut at gives at most nresults
    members and a 507 for the Request-URI (§3.6). Either way no more than the limit."""
    path = new_calendar(server)
    for i in range(3):
        assert put(server, path + f"e{i}.ics", ics(str(uuid.uuid4()))).status_code == 201

    def sync(n):
        body = (f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
                f'<d:limit><d:nresults>{n}</d:nresults></d:limit><d:prop><d:getetag/></d:prop>'
                '</d:sync-collection>')
        return dav(server, "REPORT", path, body, depth=0)

    r = sync(1)
    if r.status_code == 507:
        root = ET.fromstring(r.content)
        assert root.tag == D + "error" and root.find(D + "number-of-matches-within-limits") \
            is not None
    else:
        ms = multistatus(r)
        assert ms.pop(path)["status"] == 507 and len(ms) <= 1
    assert len(multistatus(sync(3))) == 3
