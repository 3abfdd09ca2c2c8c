"""The address a private link is made under, as pure functions (no Streamlit, no store).

A link is ``<base>/?link=<token>``. The base is, in this order:

1. ``WAYHOME_PUBLIC_URL`` (``settings.PUBLIC_URL``) when it is set: the address
   people open Wayhome at, the only right answer behind proxies and load balancers;
2. else the request the coordinator is using right now (:func:`base_from_request`):
   its ``Host`` header, Streamlit's ``server.baseUrlPath`` and the scheme Streamlit
   serves (``https`` with ``server.sslCertFile``). ``X-Forwarded-Host`` and
   ``X-Forwarded-Proto`` count only when ``WAYHOME_TRUSTED_PROXY_HOPS`` says proxies
   of our own stand in front (anyone can send them); the host only when it is in
   ``server.allowedHosts`` (``STREAMLIT_SERVER_ALLOWED_HOSTS``) if that is set, and
   only when it is a plain host name or address with an optional port;
3. else nothing: the link is its path alone, ``/?link=…``, and whoever shows it says
   so. There is no guessed default such as ``http://localhost:8501``.

:func:`address_warnings` says when an address will not open elsewhere (loopback)
or carries the token unencrypted (``http://`` to any other host).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

#: what follows the base in every link
LINK_PATH: Final[str] = "/?link="
#: a DNS label (letters, digits, hyphens; punycode for other scripts)
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_PORT = re.compile(r"[0-9]{1,5}")
_MAX_HOST = 253
_DEFAULT_PORT: Final[dict[str, int]] = {"http": 80, "https": 443}

LOOPBACK_WARNING: Final[str] = (
    "This link points at this computer ({host}): it will not open on anyone else's "
    "phone. Open Wayhome at the address others use, or set WAYHOME_PUBLIC_URL."
)
UNENCRYPTED_WARNING: Final[str] = (
    "This link travels unencrypted (http:// to {host}): anyone on the way can read it "
    "and open the case. Serve Wayhome over https and set WAYHOME_PUBLIC_URL."
)
NO_ADDRESS_WARNING: Final[str] = (
    "No address is known for this app, so the link is only its path (/?link=…): put "
    "the app's address in front of it, or set WAYHOME_PUBLIC_URL."
)
NO_BASE_URL_WARNING: Final[str] = (
    "no --base-url or WAYHOME_PUBLIC_URL, so the link above is only its path: put the "
    "app's address in front of it (e.g. https://wayhome.example.org/?link=…)."
)


@dataclass(frozen=True, slots=True)
class Authority:
    """A checked ``host[:port]``: ``hostname`` lower-case (IPv6 without brackets)."""

    hostname: str
    port: int | None

    def text(self, scheme: str) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        if self.port is None or self.port == _DEFAULT_PORT.get(scheme):
            return host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class LinkBase:
    """Where links go: ``url`` ("" when unknown), where it came from, and why not more.

    ``source`` is ``"setting"`` (``WAYHOME_PUBLIC_URL`` / ``--base-url``),
    ``"request"`` (the coordinator's own request) or ``"none"``; ``note`` says why a
    setting or the request could not be used (never echoing what a client sent).
    """

    url: str
    source: str
    note: str = ""

    def link(self, token: str) -> str:
        return f"{self.url}{LINK_PATH}{token}"


def parse_authority(text: str | None) -> Authority | None:
    """``host[:port]`` from a ``Host``-style header value, or None if it is anything else.

    Refused: empty or over-long values, any character outside printable ASCII,
    user info (``@``), paths, queries, fragments, backslashes, percent-escapes,
    commas (several hosts), ports outside 1-65535, malformed IP literals and DNS
    labels. A trailing dot is dropped; the name is lower-cased.
    """
    if not isinstance(text, str):
        return None
    value = text.strip()
    if not value or len(value) > _MAX_HOST + 8 or not value.isascii() or not value.isprintable():
        return None
    if any(c in value for c in "@/\\?#%, \t\"'<>`{}|^;"):
        return None
    value = value.lower()
    port_text: str | None = None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1:]
        if rest:
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
        try:
            hostname = str(ipaddress.IPv6Address(host))
        except ValueError:
            return None
    else:
        if value.count(":") > 1:
            return None  # an IPv6 address must be in brackets
        host, colon, port_part = value.partition(":")
        if colon:
            port_text = port_part
        host = host[:-1] if host.endswith(".") else host
        if not host or len(host) > _MAX_HOST:
            return None
        if re.fullmatch(r"[0-9.]+", host):
            try:
                hostname = str(ipaddress.IPv4Address(host))
            except ValueError:
                return None
        else:
            labels = host.split(".")
            if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
                return None
            hostname = host
    port: int | None = None
    if port_text is not None:
        if not _PORT.fullmatch(port_text) or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    return Authority(hostname, port)


def host_allowed(hostname: str, allowed_hosts: Sequence[str]) -> bool:
    """Whether ``hostname`` is in Streamlit's ``server.allowedHosts`` (empty: any host).

    Same rules as Streamlit's own check: ``*`` is any host, ``*.example.org`` any
    sub-domain of it, anything else the exact name; ports are not compared.
    """
    patterns = [p.strip().lower().rstrip(".") for p in allowed_hosts if p and p.strip()]
    if not patterns:
        return True
    name = hostname.lower().rstrip(".")
    for pattern in patterns:
        if pattern == "*":
            return True
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]):
                return True
        elif name == pattern.strip("[]"):
            return True
    return False


def _forwarded(value: str | None, trusted_hops: int) -> str | None:
    """The value our outermost proxy wrote: the ``trusted_hops``-th from the right."""
    if trusted_hops <= 0 or not isinstance(value, str):
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        return None
    # fewer entries than proxies: they overwrite rather than append; the one value left
    # was written by a proxy of ours
    return items[-trusted_hops] if len(items) >= trusted_hops else items[0]


def base_path(path: str | None) -> str:
    """Streamlit's ``server.baseUrlPath`` as ``/a/b`` (or "" for none), percent-quoted."""
    parts = [p for p in (path or "").split("/") if p]
    return "".join("/" + quote(p, safe="-._~!$&'()*+=:@") for p in parts)


def base_from_request(
    *,
    host: str | None,
    tls: bool,
    url_path: str | None,
    allowed_hosts: Sequence[str] = (),
    trusted_proxy_hops: int = 0,
    forwarded_host: str | None = None,
    forwarded_proto: str | None = None,
) -> LinkBase:
    """The app's address as the coordinator's own request shows it (see the module doc).

    ``host`` is the request's ``Host`` header, ``tls`` whether Streamlit itself serves
    https, ``url_path`` its ``server.baseUrlPath``. The forwarded headers count only
    with ``trusted_proxy_hops`` > 0.
    """
    claimed = _forwarded(forwarded_host, trusted_proxy_hops) or host
    authority = parse_authority(claimed)
    if authority is None:
        return LinkBase("", "none", "The address this page was opened at is not a plain "
                                    "host name, so no link address is made from it.")
    if not host_allowed(authority.hostname, allowed_hosts):
        return LinkBase("", "none", "The address this page was opened at is not in "
                                    "server.allowedHosts, so no link address is made from it.")
    proto = (_forwarded(forwarded_proto, trusted_proxy_hops) or "").lower()
    scheme = proto if proto in _DEFAULT_PORT else ("https" if tls else "http")
    return LinkBase(f"{scheme}://{authority.text(scheme)}{base_path(url_path)}", "request")


def parse_base_url(text: str) -> str:
    """A configured app address (``WAYHOME_PUBLIC_URL``, ``--base-url``), normalised.

    Must be ``http://`` or ``https://`` a plain host (and port), optionally a path;
    no user info, query or fragment. Raises ``ValueError`` saying what is wrong.
    """
    value = text.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in _DEFAULT_PORT:
        raise ValueError("must start with http:// or https://")
    if parts.query or parts.fragment or "#" in value or "?" in value:
        raise ValueError("must not have a query (?…) or fragment (#…)")
    authority = parse_authority(parts.netloc)
    if authority is None:
        raise ValueError("must name a plain host, e.g. https://wayhome.example.org")
    scheme = parts.scheme.lower()
    return f"{scheme}://{authority.text(scheme)}{base_path(parts.path)}"


def choose_base(public_url: str, request: LinkBase | None) -> LinkBase:
    """``public_url`` when set (and well formed), else ``request``, else nothing."""
    note = ""
    if public_url.strip():
        try:
            return LinkBase(parse_base_url(public_url), "setting")
        except ValueError as exc:
            note = f"WAYHOME_PUBLIC_URL is ignored: it {exc}. "
    if request is not None and request.url:
        return LinkBase(request.url, "request", note.strip())
    why = request.note if request is not None else ""
    return LinkBase("", "none", (note + why).strip())


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this computer only (localhost, 127.0.0.0/8, ::1, 0.0.0.0)."""
    host = (_hostname(url) or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def is_unencrypted(url: str) -> bool:
    """Whether ``url`` sends its token in the clear: ``http://`` to a host that is not loopback."""
    return urlsplit(url).scheme.lower() == "http" and not is_loopback(url)


def address_warnings(url: str) -> list[str]:
    """Plain warnings about a link's address (empty: nothing to warn about)."""
    if not url:
        return [NO_ADDRESS_WARNING]
    host = _hostname(url) or "?"
    if is_loopback(url):
        return [LOOPBACK_WARNING.format(host=host)]
    if is_unencrypted(url):
        return [UNENCRYPTED_WARNING.format(host=host)]
    return []


def command_line_base(base_url: str | None, public_url: str) -> tuple[str, list[str]]:
    """``wayhome link issue``'s base (it has no request): ``--base-url``, else
    ``WAYHOME_PUBLIC_URL``, else "" (the link is printed as ``/?link=…``), with the
    warnings to print on stderr. ``ValueError`` names a malformed address."""
    for name, given in (("--base-url", base_url), ("WAYHOME_PUBLIC_URL", public_url)):
        if given and given.strip():
            try:
                base = parse_base_url(given)
            except ValueError as exc:
                raise ValueError(f"{name} {exc}") from None
            return base, address_warnings(base)
    return "", [NO_BASE_URL_WARNING]


__all__ = [
    "LINK_PATH", "Authority", "LinkBase", "address_warnings", "base_from_request",
    "base_path", "choose_base", "command_line_base", "host_allowed", "is_loopback",
    "is_unencrypted", "parse_authority", "parse_base_url",
]
