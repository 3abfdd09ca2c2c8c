"""Where a private link points: the pure rules of ``vocab.link_address``.

The ``Host`` header is whatever the client sent; a link made under a hostile one
would hand the token to someone else's server. So only a plain host name or
address (and port) is ever used, only one in ``server.allowedHosts`` when that is
set, forwarded headers only behind trusted proxies, and nothing is ever guessed.
"""

from __future__ import annotations

import pytest

from vocab.link_address import (
    LINK_PATH,
    LinkBase,
    address_warnings,
    base_from_request,
    base_path,
    choose_base,
    command_line_base,
    host_allowed,
    is_loopback,
    is_unencrypted,
    parse_authority,
    parse_base_url,
)

HOSTILE_HOSTS = [
    None, "", "   ", ":8501", "wayhome.example.org:", "wayhome.example.org:0",
    "wayhome.example.org:65536", "wayhome.example.org:99999", "wayhome.example.org:80abc",
    "wayhome.example.org:+80", "evil.example@wayhome.example.org",
    "wayhome.example.org@evil.example", "user:pass@wayhome.example.org",
    "wayhome.example.org/evil", "wayhome.example.org\\evil", "wayhome.example.org?x=1",
    "wayhome.example.org#frag", "wayhome%2eexample.org", "wayhome.example.org\r\nSet-Cookie: a=b",
    "wayhome.example.org\x00.evil", "wayhome .example.org", "evil.example, wayhome.example.org",
    "<script>alert(1)</script>", "javascript:alert(1)", "\"wayhome.example.org\"",
    "évil.example", "wayhome.exаmple.org",  # Cyrillic a
    "-evil.example", "evil-.example", "evil..example", "a" * 64 + ".example",
    ("a" * 60 + ".") * 5 + "org", "1.2.3.4.5", "999.1.1.1", "127.1", "2130706433",
    "example.123", "::1", "[::1", "[::1]x", "[::1]:", "[::1]:http", "[fe80::1%eth0]",
    "[not-an-ip]", "[127.0.0.1]", "wayhome.example.org:8501:8502",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_hostile_host_header_is_never_used(host):
    assert parse_authority(host) is None
    base = base_from_request(host=host, tls=False, url_path="wh")
    assert (base.url, base.source) == ("", "none")
    assert base.link("tok") == "/?link=tok"
    # the note never echoes what the client sent
    assert host is None or not host.strip() or host.strip() not in base.note


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost:8611", "localhost:8611"),
        ("127.0.0.1:8611", "127.0.0.1:8611"),
        ("WayHome.Example.ORG.", "wayhome.example.org"),
        ("[::1]:8611", "[::1]:8611"),
        ("[2001:DB8::1]", "[2001:db8::1]"),
        ("xn--bcher-kva.example:443", "xn--bcher-kva.example:443"),
        ("wayhome-1.example.org:80", "wayhome-1.example.org"),  # http's own port
    ],
)
def test_a_plain_host_and_port_are_kept(host, expected):
    authority = parse_authority(host)
    assert authority is not None
    assert authority.text("http") == expected


def test_the_request_gives_host_port_base_path_and_scheme():
    base = base_from_request(host="127.0.0.1:8611", tls=False, url_path="/wh/")
    assert base == LinkBase("http://127.0.0.1:8611/wh", "request")
    assert base.link("abc") == "http://127.0.0.1:8611/wh/?link=abc"
    # Streamlit serving https itself; its own port is not written
    assert base_from_request(host="wayhome.example.org:443", tls=True, url_path="").url == \
        "https://wayhome.example.org"
    assert base_from_request(host="h.example:8443", tls=True, url_path="a/b c").url == \
        "https://h.example:8443/a/b%20c"
    assert base_path(None) == "" and base_path("//") == "" and base_path("wh") == "/wh"


def test_forwarded_headers_count_only_behind_trusted_proxies():
    request = dict(host="127.0.0.1:8501", tls=False, url_path="",
                   forwarded_host="evil.example", forwarded_proto="https")
    # no proxy of ours: anyone can send X-Forwarded-*, so they are ignored
    assert base_from_request(**request).url == "http://127.0.0.1:8501"
    # one proxy: the values it wrote (rightmost), not what the client put before them
    assert base_from_request(**{**request, "forwarded_host": "evil.example, "
                                "wayhome.example.org", "forwarded_proto": "http, https"},
                             trusted_proxy_hops=1).url == "https://wayhome.example.org"
    # two proxies: the outermost one's value
    assert base_from_request(**{**request, "forwarded_host": "evil.example, a.example, "
                                "b.internal"}, trusted_proxy_hops=2).url == "https://a.example"
    # a proxy that overwrites rather than appends: its one value
    assert base_from_request(**request, trusted_proxy_hops=2).url == "https://evil.example"
    # a forwarded scheme other than http/https is ignored; the server's own counts
    assert base_from_request(**{**request, "forwarded_proto": "javascript"},
                             trusted_proxy_hops=1).url == "http://evil.example"
    # a hostile forwarded host is refused like a hostile Host header, not swapped for it
    hostile = base_from_request(**{**request, "forwarded_host": "evil.example/x@y"},
                                trusted_proxy_hops=1)
    assert hostile.url == ""


def test_the_host_must_be_an_allowed_host_when_they_are_set():
    allowed = ["wayhome.example.org", "*.wayhome.example.net"]
    ok = base_from_request(host="wayhome.example.org:8443", tls=True, url_path="",
                           allowed_hosts=allowed)
    assert ok.url == "https://wayhome.example.org:8443"
    for host in ("evil.example", "wayhome.example.org.evil.example", "evilwayhome.example.net",
                 "localhost:8501", "127.0.0.1"):
        refused = base_from_request(host=host, tls=True, url_path="", allowed_hosts=allowed)
        assert refused.url == "", host
        assert "allowedHosts" in refused.note
    assert host_allowed("a.wayhome.example.net", allowed)
    assert host_allowed("anything.example", ["*"])
    assert host_allowed("anything.example", [])  # not set: any plain host
    assert host_allowed("::1", ["[::1]"])
    # behind a trusted proxy, the forwarded host is the one checked
    assert base_from_request(host="wayhome.example.org", tls=False, url_path="",
                             allowed_hosts=allowed, trusted_proxy_hops=1,
                             forwarded_host="evil.example").url == ""


def test_the_public_url_setting_wins_and_nothing_is_guessed():
    request = base_from_request(host="127.0.0.1:8611", tls=False, url_path="wh")
    chosen = choose_base("https://wayhome.example.org/search/", request)
    assert chosen == LinkBase("https://wayhome.example.org/search", "setting")
    assert choose_base("", request) == request
    nothing = choose_base("", base_from_request(host="bad host", tls=False, url_path=""))
    assert (nothing.url, nothing.source) == ("", "none")
    assert nothing.link("t") == LINK_PATH + "t"
    assert choose_base("", None).url == ""
    # a malformed setting is ignored, and the page says so
    fallback = choose_base("wayhome.example.org", request)
    assert fallback.url == "http://127.0.0.1:8611/wh"
    assert "WAYHOME_PUBLIC_URL is ignored" in fallback.note


@pytest.mark.parametrize(
    "text",
    ["wayhome.example.org", "ftp://wayhome.example.org", "https://", "https://u:p@h.example",
     "https://h.example/?a=1", "https://h.example/#x", "https://h .example", "javascript:x",
     "https://h.example:99999"],
)
def test_a_malformed_base_url_is_refused(text):
    with pytest.raises(ValueError):
        parse_base_url(text)


def test_a_base_url_is_normalised():
    assert parse_base_url(" HTTPS://Wayhome.Example.ORG:443/a/b/ ") == \
        "https://wayhome.example.org/a/b"
    assert parse_base_url("http://[::1]:8611") == "http://[::1]:8611"


@pytest.mark.parametrize(
    ("url", "loopback", "unencrypted"),
    [
        ("http://localhost:8501", True, False),
        ("http://LOCALHOST.:8501/wh", True, False),
        ("http://app.localhost", True, False),
        ("http://127.0.0.1:8611/wh", True, False),
        ("http://127.9.9.9", True, False),
        ("http://[::1]:8611", True, False),
        ("http://0.0.0.0:8501", True, False),
        ("https://localhost", True, False),
        ("http://wayhome.example.org", False, True),
        ("http://10.1.2.3:8501", False, True),
        ("https://wayhome.example.org/wh", False, False),
        ("https://192.0.2.10", False, False),
    ],
)
def test_loopback_and_unencrypted_addresses_are_told_apart(url, loopback, unencrypted):
    assert is_loopback(url) is loopback
    assert is_unencrypted(url) is unencrypted
    warnings = address_warnings(url)
    assert len(warnings) == (1 if loopback or unencrypted else 0)
    if loopback:
        assert "will not open on anyone else's phone" in warnings[0]
    if unencrypted:
        assert "unencrypted" in warnings[0]
    assert address_warnings("") and "WAYHOME_PUBLIC_URL" in address_warnings("")[0]


def test_the_command_line_takes_the_flag_then_the_setting_then_warns():
    assert command_line_base("https://a.example", "https://b.example") == ("https://a.example", [])
    assert command_line_base(None, "https://b.example/wh/") == ("https://b.example/wh", [])
    base, warnings = command_line_base(None, "")
    assert base == "" and "no --base-url or WAYHOME_PUBLIC_URL" in warnings[0]
    base, warnings = command_line_base("http://wayhome.example.org", "")
    assert "unencrypted" in warnings[0]
    with pytest.raises(ValueError, match="--base-url"):
        command_line_base("wayhome.example.org", "https://b.example")
    with pytest.raises(ValueError, match="WAYHOME_PUBLIC_URL"):
        command_line_base(None, "b.example")
