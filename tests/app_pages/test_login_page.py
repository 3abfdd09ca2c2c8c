"""The sign-in page: passwords always; identity-provider buttons only where ``[auth]`` is set."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vocab import settings

LOGIN = str(Path(__file__).resolve().parents[2] / "app_pages" / "login.py")


@pytest.fixture(autouse=True)
def _own_store(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}")


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


#: an ``[auth]`` secrets section with one named provider (never contacted here)
ENTRA = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not a real secret",
    "entra": {"client_id": "id", "client_secret": "secret",
              "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"},
}

def test_without_an_auth_section_only_the_password_form_shows():
    at = AppTest.from_file(LOGIN, default_timeout=60)
    at.run()
    assert not at.exception
    assert _labels(at) == ["Sign in"]
    assert {t.label for t in at.text_input} == {"Username", "Password"}


def test_with_a_provider_configured_a_button_offers_it_beside_the_password_form():
    at = AppTest.from_file(LOGIN, default_timeout=60)
    at.secrets["auth"] = ENTRA
    at.run()
    assert not at.exception
    assert _labels(at) == ["Sign in with entra", "Sign in"]
    assert {t.label for t in at.text_input} == {"Username", "Password"}


def test_a_server_missing_the_sign_in_packages_says_so_instead_of_failing(monkeypatch):
    # Authlib's Starlette client (it needs httpx) cannot be imported: the click must not
    # send the browser to a server error; the page says why and passwords still work.
    import sys

    for name in [m for m in sys.modules if m.startswith(("authlib.integrations.starlette_client",
                                                         "authlib.integrations.httpx_client"))]:
        monkeypatch.delitem(sys.modules, name)  # imported afresh below, without httpx
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.setitem(sys.modules, "httpx2", None)
    at = AppTest.from_file(LOGIN, default_timeout=60)
    at.secrets["auth"] = ENTRA
    at.run()
    at.button(key="oidc_entra").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("Sign-in with the identity provider is not available: ")
    assert error.endswith("this server is missing the httpx package")
    assert {t.label for t in at.text_input} == {"Username", "Password"}
