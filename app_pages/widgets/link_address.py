"""The address of a new private link, from the request the coordinator is using, and its QR code.

:func:`link_base` reads what the pure rules in :mod:`vocab.link_address` need from
this session: ``WAYHOME_PUBLIC_URL``, else the ``Host`` header of the coordinator's
own connection (forwarded headers only behind ``WAYHOME_TRUSTED_PROXY_HOPS`` proxies),
Streamlit's ``server.baseUrlPath``, ``server.sslCertFile`` and ``server.allowedHosts``.
:func:`qr_image` draws a link as a QR code on the server (segno), as an inline PNG:
the token never leaves the page for an image service, nor becomes a served file.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import segno
import streamlit as st

from vocab import settings
from vocab.link_address import LinkBase, base_from_request, choose_base


def _header(name: str) -> str | None:
    try:
        value = st.context.headers.get(name)
    except Exception:  # no request (a bare script run)
        return None
    return value if isinstance(value, str) else None


def _allowed_hosts() -> Sequence[str]:
    value = st.get_option("server.allowedHosts") or ()
    return [value] if isinstance(value, str) else [str(v) for v in value]


def link_base() -> LinkBase:
    """Where this session's new links go (see :mod:`vocab.link_address`)."""
    request = base_from_request(
        host=_header("Host"),
        tls=bool(st.get_option("server.sslCertFile")),
        url_path=st.get_option("server.baseUrlPath"),
        allowed_hosts=_allowed_hosts(),
        trusted_proxy_hops=settings.TRUSTED_PROXY_HOPS,
        forwarded_host=_header("X-Forwarded-Host"),
        forwarded_proto=_header("X-Forwarded-Proto"),
    )
    return choose_base(settings.PUBLIC_URL, request)


def qr_image(url: str, *, caption: str = "QR code of the link") -> None:
    """Show ``url`` as a QR code (inline PNG made here, sized for a phone camera)."""
    code = segno.make(url, error="m")
    src = code.png_data_uri(scale=5, border=4)
    st.html(
        f'<img src="{src}" alt="{html.escape(caption)}" data-testid="wayhome-link-qr" '
        f'width="{code.symbol_size(scale=5, border=4)[0]}" '
        'style="image-rendering:pixelated;background:#fff">'
    )
