"""Bad input to the DAV front end (issue 20 "Bad input"; RFC 4918 §20.6 on XML
entities): each gets its DAV error, changes nothing and the server stays up."""
import base64
import http.client
import uuid

import requests

from conftest import PASSWORDS
from davutil import (C, D, NSDECL, dav, error_condition, homes, ics, multistatus, new_calendar,
                     propfind, put)


def members(server, path, user="alice"):
    return set(multistatus(propfind(server, path, "<d:getetag/>", depth=1, user=user)))


def alive(server):
    assert server.http().get(server.base + "/health").status_code == 200


def test_malformed_xml_400(server):
    path = new_calendar(server)
    for body in ("<d:propfind xmlns:d='DAV:'><d:prop>", "not xml at all", "<a><b></a></b>"):
        r = dav(server, "PROPFIND", path, body, depth=0)
        assert r.status_code == 400
        r = dav(server, "REPORT", path, body, depth=1)
        assert r.status_code == 400
    alive(server)


def test_billion_laughs_refused(server):
    path = new_calendar(server)
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                     for i in range(1, 10))
           + f']><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&lol9;</d:displayname>'
           '</d:prop></d:propfind>')
    r = dav(server, "PROPFIND", path, lol, depth=0)
    assert r.status_code == 400
    body = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            f'<d:propertyupdate {NSDECL}><d:set><d:prop><d:displayname>&xxe;</d:displayname>'
            '</d:prop></d:set></d:propertyupdate>')
    r = dav(server, "PROPPATCH", path, body)
    assert r.status_code == 400 and "root:" not in r.text
    p = multistatus(propfind(server, path, "<d:displayname/>"))[path]["props"]
    assert p[D + "displayname"].text == path.rstrip("/").rsplit("/", 1)[1]
    alive(server)


def test_deep_nesting_refused(server):
    path = new_calendar(server)
    body = f'<d:propfind {NSDECL}><d:prop>' + "<d:x>" * 5000 + "</d:x>" * 5000 + \
        "</d:prop></d:propfind>"
    assert dav(server, "PROPFIND", path, body, depth=0).status_code == 400
    body = f'<d:propfind {NSDECL}><d:prop>' + "<d:x>" * 40 + "</d:x>" * 40 + \
        "</d:prop></d:propfind>"
    assert dav(server, "PROPFIND", path, body, depth=0).status_code == 400
    alive(server)


def test_oversized_body_413(server):
    path = new_calendar(server)
    big = f'<d:propfind {NSDECL}><d:prop>' + "<d:x/>" * 600000 + "</d:prop></d:propfind>"
    r = dav(server, "PROPFIND", path, big, depth=0)
    assert r.status_code in (413, 400)
    alive(server)


def test_oversized_put_max_resource_size(server):
    path = new_calendar(server)
    big = ics(str(uuid.uuid4()), extra="DESCRIPTION:" + "y" * 3100000)
    r = put(server, path + "huge.ics", big)
    assert r.status_code in (403, 413)
    if r.status_code == 403:
        assert C + "max-resource-size" in error_condition(r)
    assert members(server, path) == {path}


def test_depth_infinity_and_bad_depth(server):
    path = new_calendar(server)
    r = propfind(server, path, "<d:getetag/>", depth="infinity")
    assert r.status_code == 403 and D + "propfind-finite-depth" in error_condition(r)
    assert propfind(server, path, "<d:getetag/>", depth="2").status_code == 400


def raw(server, method, target, body=b"", user="alice"):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    cred = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
    c.putrequest(method, target, skip_accept_encoding=True)
    c.putheader("Authorization", "Basic " + cred)
    c.putheader("Depth", "0")
    c.putheader("Content-Length", str(len(body)))
    c.endheaders()
    c.send(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def test_path_traversal_refused(server):
    path = new_calendar(server)
    home = homes(server)[0]
    for target in (path + "../../../principals/alice/", path + "..%2F..%2Fx.ics",
                   home + "%2e%2e/", path + "./x.ics"):
        status, _ = raw(server, "PROPFIND", target)
        assert status in (400, 404), target
    status, _ = raw(server, "PUT", path + "..%2Fevil.ics", ics(str(uuid.uuid4())).encode())
    assert status in (400, 404)
    assert members(server, path) == {path}


def test_other_users_collections(server):
    # bob may write alice's account, carol only read it (conftest); alice sees none of bob's
    bob_home = homes(server, "bob")[0]
    assert propfind(server, bob_home, "<d:resourcetype/>", depth=1).status_code == 404
    assert put(server, bob_home + "x/evil.ics", ics(str(uuid.uuid4()))).status_code in (404, 409)
    # bob's principal is the directory's (RFC 9670 §2), his calendars are not alice's
    ms = multistatus(propfind(server, "/dav/principals/bob/", "<c:calendar-home-set/>"))
    assert C + "calendar-home-set" in ms["/dav/principals/bob/"]["missing"]
    path = new_calendar(server)
    carol_home = homes(server, "carol")[0]
    assert carol_home != homes(server)[0]
    # carol reaches alice's home (shared read-only) but cannot write in it
    r = propfind(server, path, "<d:current-user-privilege-set/>", user="carol")
    privs = multistatus(r)[path]["props"][D + "current-user-privilege-set"]
    assert privs.find(f"{D}privilege/{D}read") is not None
    assert privs.find(f"{D}privilege/{D}write") is None
    r = put(server, path + "carol.ics", ics(str(uuid.uuid4())), user="carol")
    assert r.status_code == 403 and D + "need-privileges" in error_condition(r)
    assert members(server, path) == {path}
    r = dav(server, "DELETE", path, user="carol")
    assert r.status_code == 403


def test_unauthenticated_and_wrong_password(server):
    path = new_calendar(server)
    r = requests.request("PROPFIND", server.base + path, headers={"Depth": "0"})
    assert r.status_code == 401
    r = requests.put(server.base + path + "x.ics", data=ics("u"), auth=("alice", "wrong"))
    assert r.status_code == 401
    assert members(server, path) == {path}


def test_unknown_paths_and_methods(server):
    assert propfind(server, "/dav/nothing/", "<d:getetag/>").status_code == 404
    assert propfind(server, "/dav/calendars/nosuchaccount/", "<d:getetag/>").status_code == 404
    path = new_calendar(server)
    assert dav(server, "PATCH", path).status_code == 405
    # a PROPFIND body that is XML but no propfind
    r = dav(server, "PROPFIND", path, f"<d:other {NSDECL}/>", depth=0)
    assert r.status_code == 400
