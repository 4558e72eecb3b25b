"""addressbook-query as RFC 6352 §8.6 and §10.5 define it, read from outside: the test
attribute of a prop-filter over several text-matches (§10.5.1), param-filter (§10.5.2),
group prefixes in a prop-filter's name, text-match collations (§8.3: i;unicode-casemap by
default, i;octet, an unknown one refused with CARDDAV:supported-collation) and the
client's limit (§8.6.1, §8.6.2: 507 for the Request-URI with
DAV:number-of-matches-within-limits)."""
import xml.etree.ElementTree as ET

from davutil import CR, D, NSDECL, dav, error_condition, multistatus, new_addressbook, put


def card(uid, *lines):
    return "\r\n".join(["BEGIN:VCARD", "VERSION:4.0", f"UID:{uid}", *lines, "END:VCARD", ""])


def book_of(server, cards):
    path = new_addressbook(server)
    for name, text in cards.items():
        r = put(server, path + name + ".vcf", text, ctype="text/vcard")
        assert r.status_code == 201, (name, r.text)
    return path


def query(server, path, filt, extra=""):
    body = (f'<cr:addressbook-query {NSDECL}><d:prop><d:getetag/></d:prop>'
            f'<cr:filter{filt}</cr:filter>{extra}</cr:addressbook-query>')
    return dav(server, "REPORT", path, body.encode(), depth=1)


def found(server, path, filt):
    return {h.rsplit("/", 1)[1][:-4] for h in multistatus(query(server, path, filt))}


def test_rfc6352_10_5_1_prop_filter_test_over_its_text_matches(server):
    path = book_of(server, {
        "alice": card("u-alice", "FN:Alice Smith", "EMAIL:alice@example.com"),
        "bob": card("u-bob", "FN:Bob Jones", "EMAIL:bob@example.org"),
    })
    two = '<cr:text-match>alice</cr:text-match><cr:text-match>jones</cr:text-match>'
    # anyof (the default): either text-match; allof: both on one FN
    assert found(server, path, f'><cr:prop-filter name="FN">{two}</cr:prop-filter>') == {
        "alice", "bob"}
    assert found(server, path, f'><cr:prop-filter name="FN" test="allof">{two}'
                               '</cr:prop-filter>') == set()
    assert found(server, path, '><cr:prop-filter name="FN" test="allof"><cr:text-match>bob'
                               '</cr:text-match><cr:text-match match-type="ends-with">jones'
                               '</cr:text-match></cr:prop-filter>') == {"bob"}


def test_rfc6352_10_5_2_param_filter(server):
    path = book_of(server, {
        "work": card("u-work", "FN:Worker", "TEL;TYPE=work,voice:+1 555 0100"),
        "home": card("u-home", "FN:Homer", "TEL;TYPE=home:+1 555 0101"),
        "bare": card("u-bare", "FN:Bare", "TEL:+1 555 0102"),
    })
    assert found(server, path, '><cr:prop-filter name="TEL"><cr:param-filter name="TYPE">'
                               '<cr:text-match match-type="equals">work</cr:text-match>'
                               '</cr:param-filter></cr:prop-filter>') == {"work"}
    assert found(server, path, '><cr:prop-filter name="TEL"><cr:param-filter name="TYPE">'
                               '<cr:is-not-defined/></cr:param-filter></cr:prop-filter>') == {
        "bare"}
    # allof: a TEL with TYPE home whose number ends in 0101
    assert found(server, path, '><cr:prop-filter name="TEL" test="allof"><cr:text-match '
                               'match-type="ends-with">0101</cr:text-match><cr:param-filter '
                               'name="TYPE"><cr:text-match>home</cr:text-match>'
                               '</cr:param-filter></cr:prop-filter>') == {"home"}


def test_rfc6352_10_5_1_group_prefix_in_the_name(server):
    path = book_of(server, {
        "grouped": card("u-g", "FN:Grouped", "item1.EMAIL:g@example.com"),
        "plain": card("u-p", "FN:Plain", "EMAIL:p@example.com"),
    })
    assert found(server, path, '><cr:prop-filter name="EMAIL"/>') == {"grouped", "plain"}
    assert found(server, path, '><cr:prop-filter name="item1.EMAIL"/>') == {"grouped"}
    assert found(server, path, '><cr:prop-filter name="item2.EMAIL"/>') == set()


def test_rfc6352_8_3_collations(server):
    path = book_of(server, {
        "elodie": card("u-e", "FN:Élodie Dupont"),
        "emile": card("u-m", "FN:Emile Zola"),
    })
    # i;unicode-casemap, the default, folds É; i;ascii-casemap only ASCII; i;octet nothing
    assert found(server, path, '><cr:prop-filter name="FN"><cr:text-match>éLODIE'
                               '</cr:text-match></cr:prop-filter>') == {"elodie"}
    assert found(server, path, '><cr:prop-filter name="FN"><cr:text-match '
                               'collation="i;ascii-casemap">éLODIE</cr:text-match>'
                               '</cr:prop-filter>') == set()
    assert found(server, path, '><cr:prop-filter name="FN"><cr:text-match '
                               'collation="i;ascii-casemap">ÉLODIE</cr:text-match>'
                               '</cr:prop-filter>') == {"elodie"}
    assert found(server, path, '><cr:prop-filter name="FN"><cr:text-match collation="i;octet"'
                               ' match-type="starts-with">emile</cr:text-match>'
                               '</cr:prop-filter>') == set()
    r = query(server, path, '><cr:prop-filter name="FN"><cr:text-match collation="i;nope">x'
                            '</cr:text-match></cr:prop-filter>')
    assert r.status_code == 403 and CR + "supported-collation" in error_condition(r)


def test_rfc6352_8_6_2_truncation_at_the_clients_limit(server):
    path = book_of(server, {f"d{i}": card(f"u-d{i}", f"FN:Daboo {i}") for i in range(3)})
    r = query(server, path, ' test="anyof"><cr:prop-filter name="FN"><cr:text-match>daboo'
                            '</cr:text-match></cr:prop-filter>',
              '<cr:limit><cr:nresults>2</cr:nresults></cr:limit>')
    assert r.status_code == 207
    root = ET.fromstring(r.content)
    statuses = {}
    for resp in root.findall(D + "response"):
        href = resp.find(D + "href").text
        st = resp.find(D + "status")
        statuses[href] = st.text.split()[1] if st is not None else "propstat"
        if href == path:
            assert resp.find(D + "error").find(D + "number-of-matches-within-limits") is not None
    # two results and the 507 of the Request-URI, not counted in the limit
    assert statuses.pop(path) == "507"
    assert len(statuses) == 2 and set(statuses.values()) == {"propstat"}
    # a limit the result fits in: no 507
    r = query(server, path, '><cr:prop-filter name="FN"><cr:text-match>daboo</cr:text-match>'
                            '</cr:prop-filter>', '<cr:limit><cr:nresults>3</cr:nresults></cr:limit>')
    assert len(multistatus(r)) == 3 and path not in multistatus(r)


def test_rfc6352_10_4_2_partial_retrieval_of_vcard_properties(server):
    """§10.4.2 (§8.6.3's example): only the properties named, any group for a bare name,
    novalue keeping name and parameters alone; version 3.0 asked for is written as 3.0."""
    path = book_of(server, {"c": card("u-c", "FN:Cyrus Daboo", "NICKNAME:me",
                                      "EMAIL;TYPE=work:cyrus@example.com", "NOTE:secret")})
    body = (f'<cr:addressbook-query {NSDECL}><d:prop><d:getetag/><cr:address-data>'
            '<cr:prop name="VERSION"/><cr:prop name="UID"/><cr:prop name="NICKNAME"/>'
            '<cr:prop name="EMAIL" novalue="yes"/></cr:address-data></d:prop>'
            '<cr:filter><cr:prop-filter name="NICKNAME"><cr:text-match match-type="equals">me'
            '</cr:text-match></cr:prop-filter></cr:filter></cr:addressbook-query>')
    ms = multistatus(dav(server, "REPORT", path, body, depth=1))
    text = ms[path + "c.vcf"]["props"][CR + "address-data"].text
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    assert any(line.startswith("NICKNAME") and line.endswith(":me") for line in lines)
    assert any(line.startswith("UID") and line.endswith(":u-c") for line in lines)
    assert any(line.upper().startswith("EMAIL;") and line.endswith(":") for line in lines)
    assert not any(line.startswith(("FN", "NOTE")) for line in lines)
    r = dav(server, "REPORT", path, body.replace("<cr:address-data>",
                                                 '<cr:address-data version="2.1">'), depth=1)
    assert r.status_code == 403 and CR + "supported-address-data" in error_condition(r)
