"""RFC 8620 §6 (upload, download, Blob/copy) and RFC 9404 (Blob/upload, Blob/get,
Blob/lookup)."""
import base64
import hashlib
import urllib.parse

import requests

from conftest import BLOB, CAL, CORE


def upload(server, acct, data, ctype="application/octet-stream", user="alice"):
    r = server.http(user).post(f"{server.base}/jmap/upload/{acct}/", data=data,
                               headers={"Content-Type": ctype})
    return r


def download_url(server, acct, blob, name, type_):
    tmpl = server.session()["downloadUrl"]
    return (tmpl.replace("{accountId}", acct).replace("{blobId}", blob)
            .replace("{name}", urllib.parse.quote(name, safe=""))
            .replace("{type}", urllib.parse.quote(type_, safe="")))


def test_upload_and_download(server, acct):
    r = upload(server, acct, b"hello blob", "text/plain")
    assert r.status_code == 201
    j = r.json()
    assert j["accountId"] == acct and j["size"] == 10 and j["type"] == "text/plain"
    blob = j["blobId"]
    # same content, same id (content-addressed)
    assert upload(server, acct, b"hello blob").json()["blobId"] == blob
    r = server.http().get(download_url(server, acct, blob, "greeting.txt", "text/plain"))
    assert r.status_code == 200 and r.content == b"hello blob"
    assert r.headers["Content-Type"] == "text/plain"
    assert 'filename="greeting.txt"' in r.headers["Content-Disposition"]
    # the other user cannot see it
    bob = server.account("bob")
    r = server.http("bob").get(download_url(server, acct, blob, "x", "text/plain"))
    assert r.status_code == 200  # bob shares alice's account (read-write)
    r = server.http("bob").get(download_url(server, bob, blob, "x", "text/plain"))
    assert r.status_code == 404


def test_download_names_are_safe(server, acct):
    blob = upload(server, acct, b"x").json()["blobId"]
    for name in ('a"b.txt', "../../etc/passwd", "naïve résumé.pdf", "line\r\nbreak", "a/b"):
        r = server.http().get(download_url(server, acct, blob, name, "text/plain"))
        assert r.status_code == 200, name
        cd = r.headers["Content-Disposition"]
        assert "\r" not in cd and "\n" not in cd
        fallback = cd.split('filename="')[1].split('"')[0]
        assert "/" not in fallback and '"' not in fallback
        assert "filename*=UTF-8''" + urllib.parse.quote(name, safe="!#$&+-.^_`|~") in cd
    # a type that would inject a header is not echoed
    r = server.http().get(download_url(server, acct, blob, "n", "text/html\r\nX-Evil: 1"))
    assert r.status_code == 200 and "X-Evil" not in r.headers
    assert r.headers["Content-Type"] == "application/octet-stream"


def test_download_range(server, acct):
    data = bytes(range(256)) * 4
    blob = upload(server, acct, data).json()["blobId"]
    url = download_url(server, acct, blob, "b.bin", "application/octet-stream")
    h = server.http()
    r = h.get(url, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    r = h.get(url, headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = h.get(url, headers={"Range": "bytes=1000-"})
    assert r.status_code == 206 and r.content == data[1000:]
    r = h.get(url, headers={"Range": "bytes=5000-6000"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    r = h.get(url, headers={"Range": "bytes=0-1,5-6"})  # multiple ranges: whole body
    assert r.status_code == 200 and r.content == data
    assert h.get(url.replace(blob, "G" + "0" * 64)).status_code == 404


def test_upload_limits_and_errors(server, acct):
    r = upload(server, acct, b"x" * 2000001)
    assert r.status_code == 413 and r.json()["limit"] == "maxSizeUpload"
    r = upload(server, "nosuchaccount", b"x")
    assert r.status_code == 404
    r = upload(server, acct, b"x", user="carol")  # read-only access
    assert r.status_code == 403
    assert requests.post(f"{server.base}/jmap/upload/{acct}/", data=b"x").status_code == 401


def test_blob_get_rfc9404_example(server, acct):
    """RFC 9404 §4.2.2: the quick brown fox with an invalid UTF-8 sequence."""
    b1 = "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wZWQgb3ZlciB0aGUggYEgZG9nLg=="
    raw = base64.b64decode(b1)
    resp = server.api([
        ["Blob/upload", {"accountId": acct, "create": {
            "b1": {"data": [{"data:asBase64": b1}]},
            "b2": {"data": [{"data:asText": "hello world"}], "type": "text/plain"}}}, "S1"],
        ["Blob/get", {"accountId": acct, "ids": ["#b1", "#b2"]}, "G1"],
        ["Blob/get", {"accountId": acct, "ids": ["#b1", "#b2"],
                      "properties": ["data:asText", "size"]}, "G2"],
        ["Blob/get", {"accountId": acct, "ids": ["#b1", "#b2"],
                      "properties": ["data:asBase64", "size"]}, "G3"],
        ["Blob/get", {"accountId": acct, "offset": 0, "length": 5, "ids": ["#b1", "#b2"]}, "G4"],
        ["Blob/get", {"accountId": acct, "offset": 20, "length": 100,
                      "ids": ["#b1", "#b2"]}, "G5"],
    ])
    s1, g1, g2, g3, g4, g5 = [m[1] for m in resp["methodResponses"]]
    id1, id2 = s1["created"]["b1"]["id"], s1["created"]["b2"]["id"]
    assert s1["created"]["b1"]["size"] == len(raw) and s1["created"]["b2"]["type"] == "text/plain"
    assert resp["methodResponses"][1][0] == "Blob/get"
    l1 = {b["id"]: b for b in g1["list"]}
    assert l1[id1]["isEncodingProblem"] is True
    assert base64.b64decode(l1[id1]["data:asBase64"]) == raw
    assert l1[id2] == {"id": id2, "data:asText": "hello world", "size": 11}
    l2 = {b["id"]: b for b in g2["list"]}
    assert l2[id1]["data:asText"] is None and l2[id1]["isEncodingProblem"] is True
    l3 = {b["id"]: b for b in g3["list"]}
    assert base64.b64decode(l3[id2]["data:asBase64"]) == b"hello world"
    assert "isEncodingProblem" not in l3[id1]
    l4 = {b["id"]: b for b in g4["list"]}
    assert l4[id1]["data:asText"] == "The q" and l4[id2]["data:asText"] == "hello"
    assert l4[id1]["size"] == len(raw)
    l5 = {b["id"]: b for b in g5["list"]}
    assert l5[id1]["isTruncated"] is True and l5[id2]["isTruncated"] is True
    assert l5[id2]["data:asText"] == ""
    assert base64.b64decode(l5[id1]["data:asBase64"]) == raw[20:]


def test_blob_get_digests_and_not_found(server, acct):
    blob = upload(server, acct, b"digest me").json()["blobId"]
    name, out = server.call("Blob/get", {"accountId": acct, "ids": [blob, "Gnope"],
                                         "properties": ["digest:sha", "digest:sha-256", "size"]})
    b = out["list"][0]
    assert b["digest:sha"] == base64.b64encode(hashlib.sha1(b"digest me").digest()).decode()
    assert b["digest:sha-256"] == base64.b64encode(hashlib.sha256(b"digest me").digest()).decode()
    assert out["notFound"] == ["Gnope"]
    name, out = server.call("Blob/get", {"accountId": acct, "ids": [blob], "offset": 2,
                                         "length": 3, "properties": ["digest:sha-256"]})
    assert out["list"][0]["digest:sha-256"] == base64.b64encode(
        hashlib.sha256(b"ges").digest()).decode()


def test_blob_upload_sources_and_errors(server, acct):
    base = upload(server, acct, b"0123456789").json()["blobId"]
    name, out = server.call("Blob/upload", {"accountId": acct, "create": {
        "cat": {"data": [{"data:asText": "ab"}, {"blobId": base, "offset": 2, "length": 3},
                         {"data:asBase64": base64.b64encode(b"\x00\xff").decode()},
                         {"blobId": base, "offset": 8}]},
        "empty": {"data": []},
        "range": {"data": [{"blobId": base, "offset": 5, "length": 10}]},
        "missing": {"data": [{"blobId": "Gnothere"}]},
        "b64": {"data": [{"data:asBase64": "!!!"}]},
        "two": {"data": [{"data:asText": "a", "data:asBase64": "YQ=="}]},
        "many": {"data": [{"data:asText": "a"}] * 65},
    }})
    assert name == "Blob/upload"
    cat = out["created"]["cat"]
    assert cat["size"] == 2 + 3 + 2 + 2
    got = server.call("Blob/get", {"accountId": acct, "ids": [cat["id"]],
                                   "properties": ["data:asBase64"]})[1]["list"][0]
    assert base64.b64decode(got["data:asBase64"]) == b"ab234\x00\xff89"
    assert out["created"]["empty"]["size"] == 0
    for k in ("range", "missing", "b64", "two"):
        assert out["notCreated"][k]["type"] == "invalidProperties", k
    assert out["notCreated"]["many"]["type"] == "tooLarge"
    name, out = server.call("Blob/upload", {"accountId": acct, "create": {
        "x": {"data": [{"data:asText": "a"}]}}}, user="carol")
    assert out["type"] == "accountReadOnly"


def test_blob_copy(server, acct):
    blob = upload(server, acct, b"copy me").json()["blobId"]
    bob = server.account("bob")
    name, out = server.call("Blob/copy", {"fromAccountId": acct, "accountId": bob,
                                          "blobIds": [blob, "Gmissing"]}, user="bob",
                            using=[CORE])
    assert name == "Blob/copy"
    assert out["copied"] == {blob: blob}
    assert out["notCopied"]["Gmissing"]["type"] == "notFound"
    r = server.http("bob").get(download_url(server, bob, blob, "c", "text/plain"))
    assert r.status_code == 200 and r.content == b"copy me"
    name, out = server.call("Blob/copy", {"fromAccountId": acct, "accountId": "nope",
                                          "blobIds": [blob]}, using=[CORE])
    assert out["type"] == "accountNotFound"


def test_blob_lookup(server, acct):
    blob = upload(server, acct, b"lookup").json()["blobId"]
    name, out = server.call("Blob/lookup", {"accountId": acct, "typeNames": ["CalendarEvent"],
                                            "ids": [blob, "G" + "1" * 64, "not-a-blob"]})
    assert name == "Blob/lookup"
    assert out["list"] == [{"id": blob, "matchedIds": {"CalendarEvent": []}},
                           {"id": "G" + "1" * 64, "matchedIds": {"CalendarEvent": []}}]
    assert out["notFound"] == ["not-a-blob"]
    name, out = server.call("Blob/lookup", {"accountId": acct, "typeNames": ["Mailbox"],
                                            "ids": [blob]})
    assert name == "error" and out["type"] == "unknownDataType"
    # the type's capability must be in `using`
    name, out = server.call("Blob/lookup", {"accountId": acct, "typeNames": ["CalendarEvent"],
                                            "ids": [blob]}, using=[CORE, BLOB])
    assert out["type"] == "unknownDataType"
