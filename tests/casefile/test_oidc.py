"""Optional identity-provider sign-in: which coordinator an identity maps to, and refusals."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from casefile import TooManyAttempts
from casefile import schema as t
from casefile.oidc import oidc_username, parse_domains
from tests.casefile.conftest import make_case, make_coordinator
from vocab import settings

DOMAINS = ("met.police.uk", "cityoflondon.police.uk")


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"email": "jane.smith@met.police.uk", "email_verified": True}, "jane.smith"),
        ({"email": "Jane.Smith@MET.police.uk"}, "jane.smith"),  # case folded; claim absent
        ({"email": "pc_1234@cityoflondon.police.uk"}, "pc_1234"),
        # refused: unverified email, another domain, a look-alike domain, no email,
        # a name no account can have, a second @, not a mapping
        ({"email": "jane.smith@met.police.uk", "email_verified": False}, None),
        ({"email": "jane.smith@met.police.uk", "email_verified": "false"}, None),
        ({"email": "jane.smith@gmail.com", "email_verified": True}, None),
        ({"email": "jane.smith@evil-met.police.uk"}, None),
        ({"email": "jane.smith@met.police.uk.evil.com"}, None),
        ({"preferred_username": "jane.smith", "name": "Jane"}, None),
        ({"email": "jane+x@met.police.uk"}, None),
        ({"email": "a@b@met.police.uk"}, None),
        ({"email": "<script>@met.police.uk"}, None),
        ("jane.smith@met.police.uk", None),
    ],
)
def test_identity_maps_to_a_username_only_for_a_verified_allowed_email(claims, expected):
    assert oidc_username(claims, domains=DOMAINS) == expected


def test_no_configured_domain_means_nobody_signs_in_that_way():
    assert oidc_username({"email": "jane.smith@met.police.uk"}, domains=()) is None
    assert parse_domains(" @Met.Police.UK , ,x.org") == ("met.police.uk", "x.org")


@pytest.mark.db
def test_store_signs_in_known_coordinators_and_refuses_the_rest(store, monkeypatch):
    monkeypatch.setattr(settings, "OIDC_EMAIL_DOMAINS", DOMAINS)
    monkeypatch.setattr(settings, "THROTTLE_PER_CLIENT", 5)
    jane = make_coordinator(store, "jane.smith", "Jane Smith")
    gone = make_coordinator(store, "old.hand", "Old Hand")
    with store.engine.begin() as conn:
        conn.execute(t.users.update().where(t.users.c.username == "old.hand")
                     .values(active=False))
    actor = store.sign_in_oidc({"email": "jane.smith@met.police.uk", "email_verified": True},
                               client_key="10.0.0.1")
    assert actor == jane
    with store.engine.connect() as conn:
        logins = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.actor_id)
                              .where(t.audit_log.c.entity == "user",
                                     t.audit_log.c.action == "login")).all()
    assert (("login", jane.user_id)) in [tuple(r) for r in logins]
    # unknown, switched off, wrong domain: refused, never created
    for email in ("nobody@met.police.uk", "old.hand@met.police.uk", "jane.smith@gmail.com"):
        assert store.sign_in_oidc({"email": email}, client_key="10.0.0.2") is None
    assert gone.user_id is not None
    with store.engine.connect() as conn:
        names = set(conn.execute(sa.select(t.users.c.username)).scalars())
    assert "nobody" not in names
    # a private link's principal never signs in this way, even if an email named it
    case = make_case(store, jane)
    link = store.issue_link(jane, case.id, role="family", label="Mum")
    with store.engine.connect() as conn:
        principal = conn.execute(sa.select(t.users.c.username).join(
            t.access_links, t.access_links.c.user_id == t.users.c.id)
            .where(t.access_links.c.id == link.link.id)).scalar_one()
    assert store.sign_in_oidc({"email": f"{principal}@met.police.uk"},
                              client_key="10.0.0.3") is None
    # refusals are throttled like wrong passwords
    for _ in range(2):  # 3 refusals above from this client, the limit is 5
        store.sign_in_oidc({"email": "nobody@met.police.uk"}, client_key="10.0.0.2")
    with pytest.raises(TooManyAttempts):
        store.sign_in_oidc({"email": "jane.smith@met.police.uk"}, client_key="10.0.0.2")


def test_providers_come_from_the_auth_section_and_none_means_passwords_only():
    from casefile.oidc import configured_providers

    assert configured_providers(None) == [] and configured_providers({}) == []
    assert configured_providers({"redirect_uri": "x", "cookie_secret": "y"}) == []
    assert configured_providers({"client_id": "a", "redirect_uri": "x"}) == [None]
    assert configured_providers({
        "redirect_uri": "x", "cookie_secret": "y", "expose_tokens": "id",
        "entra": {"client_id": "a"}, "okta": {"client_id": "b"}, "broken": {"x": 1},
    }) == ["entra", "okta"]
