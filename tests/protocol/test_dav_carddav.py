"""CardDAV (RFC 6352, RFC 5689 extended MKCOL, RFC 6578 sync) over the same
address books and cards as JMAP Contacts (RFC 9610)."""
import uuid

from conftest import CORE
from davutil import (CR, D, NSDECL, dav, error_condition, homes, multistatus, new_addressbook,
                     propfind, put, sync_token, unfold, vcf)

CONTACTS = "urn:ietf:params:jmap:contacts"


def card_by_uid(server, uid):
    acct = server.account()
    _, res = server.call("ContactCard/query", {"accountId": acct, "filter": {"uid": uid}},
                         using=[CORE, CONTACTS])
    if not res["ids"]:
        return None
    _, got = server.call("ContactCard/get", {"accountId": acct, "ids": res["ids"]},
                         using=[CORE, CONTACTS])
    return got["list"][0]


def test_rfc6352_7_1_1_addressbook_home_and_collection(server):
    home = homes(server)[1]
    ms = multistatus(propfind(server, home, "<d:resourcetype/><cr:supported-address-data/>"
                              "<cr:max-resource-size/><d:supported-report-set/>", depth=1))
    books = [h for h, e in ms.items() if e["props"][D + "resourcetype"].find(CR + "addressbook")
             is not None]
    assert books
    p = ms[books[0]]["props"]
    versions = {e.get("version") for e in p[CR + "supported-address-data"]}
    assert versions == {"3.0", "4.0"}
    reports = {r[0][0].tag for r in p[D + "supported-report-set"]}
    assert {D + "sync-collection", CR + "addressbook-multiget", CR + "addressbook-query"} <= reports


def test_rfc5689_3_extended_mkcol(server):
    path = new_addressbook(server)
    p = multistatus(propfind(server, path, "<d:displayname/><d:resourcetype/>"))[path]["props"]
    assert p[D + "displayname"].text == "Book"
    # a calendar resourcetype in the address book home is refused
    home = homes(server)[1]
    body = (f'<d:mkcol {NSDECL}><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/>'
            '</d:resourcetype></d:prop></d:set></d:mkcol>')
    r = dav(server, "MKCOL", home + "wrong/", body)
    assert r.status_code == 403 and D + "valid-resourcetype" in error_condition(r)


def test_rfc6352_6_3_2_put_get_vcard4_and_vcard3(server):
    path = new_addressbook(server)
    uid = "urn:uuid:" + str(uuid.uuid4())
    r = put(server, path + "jane.vcf", vcf(uid, "Jane Roe"), ctype="text/vcard")
    assert r.status_code == 201, r.text
    etag = r.headers["ETag"]
    g = server.http().get(server.base + path + "jane.vcf")
    assert g.status_code == 200 and g.headers["ETag"] == etag
    assert "VERSION:4.0" in g.text and "FN:Jane Roe" in unfold(g.text)
    g3 = server.http().get(server.base + path + "jane.vcf",
                           headers={"Accept": "text/vcard; version=3.0"})
    assert "VERSION:3.0" in g3.text
    card = card_by_uid(server, uid)
    assert card["name"]["full"] == "Jane Roe"


def test_rfc6352_put_vcard3_and_update_with_if_match(server):
    path = new_addressbook(server)
    uid = str(uuid.uuid4())
    etag = put(server, path + "c.vcf", vcf(uid, "Old Name", version="3.0"),
               ctype="text/vcard").headers["ETag"]
    r = put(server, path + "c.vcf", vcf(uid, "New Name"), ctype="text/vcard",
            headers={"If-Match": '"12345678"'})
    assert r.status_code == 412 and card_by_uid(server, uid)["name"]["full"] == "Old Name"
    r = put(server, path + "c.vcf", vcf(uid, "New Name"), ctype="text/vcard",
            headers={"If-Match": etag})
    assert r.status_code == 204 and card_by_uid(server, uid)["name"]["full"] == "New Name"


def test_rfc6352_6_3_2_1_preconditions(server):
    path = new_addressbook(server)
    uid = str(uuid.uuid4())
    assert put(server, path + "a.vcf", vcf(uid), ctype="text/vcard").status_code == 201
    r = put(server, path + "b.vcf", vcf(uid), ctype="text/vcard")
    assert r.status_code == 403 and CR + "no-uid-conflict" in error_condition(r)
    r = put(server, path + "c.vcf", "not a vcard", ctype="text/vcard")
    assert r.status_code == 403 and CR + "valid-address-data" in error_condition(r)
    two = vcf(str(uuid.uuid4())) + vcf(str(uuid.uuid4()))
    r = put(server, path + "d.vcf", two, ctype="text/vcard")
    assert r.status_code == 403 and CR + "valid-address-data" in error_condition(r)
    assert server.http().get(server.base + path + "b.vcf").status_code == 404


def test_rfc6352_8_7_addressbook_multiget_with_version(server):
    path = new_addressbook(server)
    put(server, path + "m.vcf", vcf(str(uuid.uuid4()), "Multi Get"), ctype="text/vcard")
    body = (f'<cr:addressbook-multiget {NSDECL}><d:prop><d:getetag/>'
            '<cr:address-data content-type="text/vcard" version="3.0"/></d:prop>'
            f'<d:href>{path}m.vcf</d:href><d:href>{path}none.vcf</d:href>'
            '</cr:addressbook-multiget>')
    ms = multistatus(dav(server, "REPORT", path, body, depth=1))
    data = ms[path + "m.vcf"]["props"][CR + "address-data"].text
    assert "VERSION:3.0" in data and "FN:Multi Get" in unfold(data)
    assert ms[path + "none.vcf"]["status"] == 404


def test_rfc6352_8_6_addressbook_query_text_match(server):
    path = new_addressbook(server)
    put(server, path + "a.vcf", vcf(str(uuid.uuid4()), "Alice Smith", "alice@example.com"),
        ctype="text/vcard")
    put(server, path + "b.vcf", vcf(str(uuid.uuid4()), "Bob Jones", "bob@example.org"),
        ctype="text/vcard")

    def query(filt):
        body = (f'<cr:addressbook-query {NSDECL}><d:prop><d:getetag/></d:prop>'
                f'<cr:filter {filt}</cr:filter></cr:addressbook-query>')
        return set(multistatus(dav(server, "REPORT", path, body, depth=1)))

    assert query('><cr:prop-filter name="FN"><cr:text-match>smith</cr:text-match>'
                 '</cr:prop-filter>') == {path + "a.vcf"}
    assert query('><cr:prop-filter name="EMAIL"><cr:text-match match-type="ends-with">'
                 'example.org</cr:text-match></cr:prop-filter>') == {path + "b.vcf"}
    assert query('test="allof"><cr:prop-filter name="FN"><cr:text-match>o</cr:text-match>'
                 '</cr:prop-filter><cr:prop-filter name="EMAIL"><cr:text-match '
                 'negate-condition="yes">alice</cr:text-match></cr:prop-filter>') == {path + "b.vcf"}
    assert query('><cr:prop-filter name="NICKNAME"><cr:is-not-defined/></cr:prop-filter>') == {
        path + "a.vcf", path + "b.vcf"}


def test_rfc6578_sync_collection_address_book(server):
    path = new_addressbook(server)
    put(server, path + "s1.vcf", vcf(str(uuid.uuid4()), "S One"), ctype="text/vcard")
    body = (f'<d:sync-collection {NSDECL}><d:sync-token>%s</d:sync-token><d:sync-level>1'
            '</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    r = dav(server, "REPORT", path, body % "", depth=0)
    assert set(multistatus(r)) == {path + "s1.vcf"}
    tok = sync_token(r)
    server.http().delete(server.base + path + "s1.vcf")
    put(server, path + "s2.vcf", vcf(str(uuid.uuid4()), "S Two"), ctype="text/vcard")
    ms = multistatus(dav(server, "REPORT", path, body % tok, depth=0))
    assert ms[path + "s1.vcf"]["status"] == 404 and D + "getetag" in ms[path + "s2.vcf"]["props"]


def test_jmap_card_visible_to_carddav(server):
    display = "Book " + uuid.uuid4().hex[:6]
    path = new_addressbook(server, display=display)
    acct = server.account()
    _, books = server.call("AddressBook/get", {"accountId": acct}, using=[CORE, CONTACTS])
    (bid,) = [b["id"] for b in books["list"] if b["name"] == display]
    _, res = server.call("ContactCard/set", {"accountId": acct, "create": {"c": {
        "addressBookIds": {bid: True}, "name": {"full": "From Jmap"}}}}, using=[CORE, CONTACTS])
    cid = res["created"]["c"]["id"]
    ms = multistatus(propfind(server, path, "<d:getetag/>", depth=1))
    g = server.http().get(server.base + path + cid + ".vcf")
    assert path + cid + ".vcf" in ms and "FN:From Jmap" in unfold(g.text)
    etag = g.headers["ETag"]
    server.call("ContactCard/set", {"accountId": acct, "destroy": [cid]}, using=[CORE, CONTACTS])
    assert server.http().get(server.base + path + cid + ".vcf").status_code == 404
    assert etag
