"""The sign-in page: passwords always; identity-provider buttons only where ``[auth]`` is set."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

LOGIN = str(Path(__file__).resolve().parents[2] / "app_pages" / "login.py")


@pytest.fixture(autouse=True)
def _own_store(tmp_path, monkeypatch):
    from wayhome import settings

    monkeypatch.setattr(settings, "DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}")


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_without_an_auth_section_only_the_password_form_shows():
    at = AppTest.from_file(LOGIN, default_timeout=60)
    at.run()
    assert not at.exception
    assert _labels(at) == ["Sign in"]
    assert {t.label for t in at.text_input} == {"Username", "Password"}


def test_with_a_provider_configured_a_button_offers_it_beside_the_password_form():
    at = AppTest.from_file(LOGIN, default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not a real secret",
        "entra": {"client_id": "id", "client_secret": "secret",
                  "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"},
    }
    at.run()
    assert not at.exception
    assert _labels(at) == ["Sign in with entra", "Sign in"]
    assert {t.label for t in at.text_input} == {"Username", "Password"}
