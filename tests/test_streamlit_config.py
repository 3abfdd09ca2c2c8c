"""Streamlit's security settings are right for a public deployment (engineering notes §4)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_xsrf_and_cors_protection_stay_on_and_uploads_are_capped():
    server = CONFIG["server"]
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True  # never disabled
    assert "corsAllowedOrigins" not in server  # no origin list opened up in the file
    assert 1 <= server["maxUploadSize"] <= 50  # MB
    assert CONFIG["global"]["developmentMode"] is False  # it relaxes CORS headers
    assert CONFIG["client"]["showErrorDetails"] == "none"  # no tracebacks to the public
    assert server["fileWatcherType"] == "none"  # a deployment never reloads on edits
    # deployment-specific: set through the environment, never fixed in the file
    for key in ("allowedHosts", "cookieSecret", "address", "baseUrlPath"):
        assert key not in server


def test_allowed_hosts_are_set_from_the_environment():
    env = {**os.environ, "STREAMLIT_SERVER_ALLOWED_HOSTS": "wayhome.example.org"}
    out = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert 'allowedHosts = [\n    "wayhome.example.org",\n]' in out
    assert "enableXsrfProtection = true" in out and "enableCORS = true" in out
