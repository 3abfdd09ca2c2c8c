"""Which coordinator account an OpenID Connect identity signs in as (optional sign-in).

Where a deployment configures an identity provider (Streamlit's ``st.login``,
an ``[auth]`` section in ``.streamlit/secrets.toml``), a coordinator may sign in
with it instead of a password. The identity provider proves who the person is;
Wayhome still decides whether they are a coordinator here, and of which cases:

* only a **verified email** counts (``email_verified`` must not be false);
* its **domain** must be one of ``OIDC_EMAIL_DOMAINS`` (e.g. ``met.police.uk``),
  so an account at any other provider or domain can never match; with no domain
  configured, nobody signs in this way;
* its **local part** is the Wayhome username (``jane.smith@met.police.uk`` →
  ``jane.smith``), which must be an existing, active coordinator account made
  with ``wayhome user add``. Unknown identities are refused, never created.

Pure functions here; ``Store.sign_in_oidc`` (casefile.links) looks the account up,
throttles failures and audits the sign-in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from casefile import validate as v
from casefile.errors import InvalidInput

__all__ = ["configured_providers", "oidc_username", "parse_domains"]


def configured_providers(auth: Mapping[str, Any] | None) -> list[str | None]:
    """Identity providers an ``[auth]`` secrets section sets up for ``st.login``.

    ``None`` stands for the unnamed default provider (``client_id`` directly in
    ``[auth]``); named ones are ``[auth.<name>]`` tables with a ``client_id``.
    An absent or empty section gives ``[]``: password sign-in only.
    """
    if not auth or not hasattr(auth, "items"):
        return []
    out: list[str | None] = [None] if auth.get("client_id") else []
    out += sorted(str(k) for k, v in auth.items()
                  if hasattr(v, "get") and v.get("client_id"))
    return out


def parse_domains(text: str | Iterable[str]) -> tuple[str, ...]:
    """Email domains from a comma-separated setting, lower-cased, without a leading @."""
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(d.strip().lower().lstrip("@") for d in items if d and d.strip())


def oidc_username(claims: Mapping[str, Any], *, domains: Iterable[str]) -> str | None:
    """The Wayhome username an identity maps to, or None (refuse).

    ``claims`` are the identity token's claims as ``st.user`` shows them.
    """
    allowed = set(parse_domains(domains))
    if not allowed or not isinstance(claims, Mapping):
        return None
    email = claims.get("email")
    if not isinstance(email, str) or email.count("@") != 1:
        return None
    verified = claims.get("email_verified", True)
    if verified is False or (isinstance(verified, str) and verified.lower() == "false"):
        return None
    local, domain = email.strip().rsplit("@", 1)
    if domain.lower() not in allowed:
        return None
    try:
        return v.username(local.lower())
    except InvalidInput:
        return None
