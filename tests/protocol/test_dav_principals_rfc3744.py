"""Principals over WebDAV (RFC 3744 §2, §4): a user's principal and those of the groups
they are in (RFC 9670 §2: a group is a principal; issue 14), at the URL DAV:acl names a
group by (/dav/principals/{group id}/): DAV:principal resources with displayname,
principal-URL (§4.2), alternate-URI-set (§4.1), group-member-set (§4.3) and, on a user's
principal, group-membership (§4.4); the principal collection (§5.8
principal-collection-set) lists them. A group is visible to its members only, as another
user's principal is to nobody but them."""
import uuid

import pytest

from davutil import C, D, multistatus, propfind
from groupware_util import GroupServer


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.group_name = "dav-team-" + uuid.uuid4().hex[:6]
    r = s.cli("group", "add", s.group_name)
    assert r.returncode == 0, r.stderr
    s.group = r.stdout.split()[-1]
    for user in ("bob", "dan"):
        r = s.cli("group", "member", s.group_name, "--add", user)
        assert r.returncode == 0, r.stderr
    yield s
    s.close()


def group_path(gs):
    return f"/dav/principals/{gs.group}/"


def group_prop(gs, prop, user="bob"):
    r = propfind(gs, group_path(gs), prop, user=user)
    entry = multistatus(r)[group_path(gs)]
    return entry


def hrefs(elem):
    return {h.text for h in elem.findall(D + "href")}


def test_rfc3744_4_group_principal_resourcetype_is_principal(gs):
    entry = group_prop(gs, "<d:resourcetype/>")
    rt = entry["props"][D + "resourcetype"]
    assert rt.find(D + "principal") is not None and rt.find(D + "collection") is None


def test_rfc3744_4_group_principal_displayname_is_the_groups_name(gs):
    entry = group_prop(gs, "<d:displayname/>")
    assert entry["props"][D + "displayname"].text == gs.group_name


def test_rfc3744_4_2_group_principal_url_is_its_own_url(gs):
    entry = group_prop(gs, "<d:principal-URL/>")
    assert hrefs(entry["props"][D + "principal-URL"]) == {group_path(gs)}


def test_rfc3744_4_1_alternate_uri_set_is_there_and_empty(gs):
    for path, user in ((group_path(gs), "bob"), ("/dav/principals/bob/", "bob")):
        entry = multistatus(propfind(gs, path, "<d:alternate-URI-set/>", user=user))[path]
        assert D + "alternate-URI-set" in entry["props"], path
        assert not hrefs(entry["props"][D + "alternate-URI-set"])


def test_rfc3744_4_3_group_member_set_names_the_members_principal_urls(gs):
    entry = group_prop(gs, "<d:group-member-set/>", user="dan")
    assert hrefs(entry["props"][D + "group-member-set"]) == {"/dav/principals/bob/",
                                                             "/dav/principals/dan/"}


def test_rfc3744_4_4_group_membership_on_a_users_principal(gs):
    ms = multistatus(propfind(gs, "/dav/principals/bob/", "<d:group-membership/>", user="bob"))
    assert hrefs(ms["/dav/principals/bob/"]["props"][D + "group-membership"]) == {group_path(gs)}
    # in no group: the property is there, empty (§4.4: support is REQUIRED)
    ms = multistatus(propfind(gs, "/dav/principals/erin/", "<d:group-membership/>", user="erin"))
    assert not hrefs(ms["/dav/principals/erin/"]["props"][D + "group-membership"])
    # a group is in no group
    entry = group_prop(gs, "<d:group-membership/>")
    assert not hrefs(entry["props"][D + "group-membership"])


def test_rfc3744_5_8_principal_collection_lists_the_users_and_their_groups_principals(gs):
    entry = group_prop(gs, "<d:principal-collection-set/>")
    assert hrefs(entry["props"][D + "principal-collection-set"]) == {"/dav/principals/"}
    ms = multistatus(propfind(gs, "/dav/principals/", "<d:resourcetype/>", depth=1, user="bob"))
    assert {"/dav/principals/", "/dav/principals/bob/", group_path(gs)} == set(ms)
    ms = multistatus(propfind(gs, "/dav/principals/", "<d:resourcetype/>", depth=1, user="erin"))
    assert set(ms) == {"/dav/principals/", "/dav/principals/erin/"}


def test_rfc3744_4_a_group_has_no_calendar_home_and_no_owner_rfc4791_6_2_1(gs):
    entry = group_prop(gs, "<c:calendar-home-set/><d:owner/><d:current-user-principal/>")
    assert {C + "calendar-home-set", D + "owner"} <= entry["missing"]
    assert hrefs(entry["props"][D + "current-user-principal"]) == {"/dav/principals/bob/"}


def test_rfc3744_4_a_group_principal_shows_others_the_directory_alone(gs):
    """erin is in no group: the group's principal URL shows her the directory's properties
    (RFC 9670 §2: every principal is visible) and not its members (§4.3), and a name that
    is no group's is 404."""
    ms = multistatus(propfind(gs, group_path(gs), "<d:displayname/><d:group-member-set/>",
                              user="erin"))
    (entry,) = ms.values()
    assert entry["props"][D + "displayname"].text
    assert D + "group-member-set" in entry["missing"]
    assert propfind(gs, "/dav/principals/no-such-group/", "<d:displayname/>",
                    user="bob").status_code == 404
