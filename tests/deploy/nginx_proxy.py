"""Run ``deploy/nginx/wayhome.conf`` as it ships, on loopback, for tests and the load bench.

:func:`render_config` substitutes the file's example addresses, ports and paths
(each must be found, so the file and this helper cannot drift apart) and wraps it
in a minimal main configuration under a temporary prefix. :func:`start_nginx` runs
it in the foreground (``daemon off``; never the system service) with a self-signed
certificate for 127.0.0.1 made by ``openssl`` on the spot.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "nginx" / "wayhome.conf"
#: the replica addresses written in the shipped file, in route order (a, b)
EXAMPLE_REPLICAS = ("10.0.0.11:8501", "10.0.0.12:8501")
BASE_PATH = "/wayhome/"
#: how long (s) one step through the proxy may take. A healthy run needs well under a
#: second; a 2-core machine shared with browser tests can starve a process for many
#: seconds, so waits are generous and always end on a condition, never on a clock.
PATIENCE = 60.0


def nginx_binary() -> str | None:
    """Debian's nginx (``/usr/sbin`` is not on every user's PATH), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _swap(text: str, old: str, new: str) -> str:
    if old not in text:
        raise AssertionError(f"deploy/nginx/wayhome.conf no longer contains {old!r}")
    return text.replace(old, new)


def render_config(prefix: Path, replicas: Sequence[int], http_port: int, https_port: int) -> str:
    """The shipped file with loopback replicas (ports, in route order) and ``prefix`` paths."""
    if len(replicas) != len(EXAMPLE_REPLICAS):
        raise ValueError(f"the shipped file names {len(EXAMPLE_REPLICAS)} replicas")
    text = CONF.read_text()
    for example, port in zip(EXAMPLE_REPLICAS, replicas, strict=True):
        text = _swap(text, example.replace(".", r"\."), f"127.0.0.1:{port}".replace(".", r"\."))
        text = _swap(text, example, f"127.0.0.1:{port}")
    text = _swap(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _swap(text, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    text = _swap(text, "/etc/ssl/wayhome/", f"{prefix}/tls/")
    text = _swap(text, "/var/log/nginx/", f"{prefix}/logs/")
    return text


def main_config(prefix: Path) -> str:
    """A minimal main nginx.conf around the http-level file (as Debian's includes conf.d)."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/main-error.log warn;\n"
        "events { worker_connections 512; }\n"
        f"http {{\n{temp}\n    include {prefix}/wayhome.conf;\n}}\n"
    )


def make_certificate(tls_dir: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (``fullchain.pem``, ``privkey.pem``)."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tls_dir / "privkey.pem"), "-out", str(tls_dir / "fullchain.pem")],
        check=True, capture_output=True,
    )
    return tls_dir / "fullchain.pem"


@dataclass
class Nginx:
    """A running nginx: ``url`` is the https base path (``https://127.0.0.1:N/wayhome/``)."""

    process: subprocess.Popen
    prefix: Path
    http_port: int
    https_port: int
    cafile: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}{BASE_PATH}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "wayhome-access.log"

    def logs(self) -> str:
        """Everything nginx logged (access, error and start-up logs)."""
        return "".join(
            p.read_text(errors="replace") for p in sorted((self.prefix / "logs").glob("*.log"))
        )

    def stop(self) -> None:
        """Stop nginx and remove its prefix (logs, certificate, temporary files)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=PATIENCE)
        shutil.rmtree(self.prefix, ignore_errors=True)


def _answers(port: int) -> bool:
    """Whether an nginx worker answers a plain request (its own redirect, no replica)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
        conn.request("GET", BASE_PATH)
        status = conn.getresponse().status
        conn.close()
    except OSError:
        return False
    return status == 301


def start_nginx(replicas: Sequence[int], *, timeout: float = PATIENCE) -> Nginx:
    """Run the shipped configuration in front of loopback ``replicas`` (ports).

    Returns once a worker answers an HTTP request: a TCP connect alone only proves
    the master has bound its sockets (the kernel queues connections before any
    worker runs).
    """
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed")
    prefix = Path(tempfile.mkdtemp(prefix="wayhome-nginx-"))
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir()
    cafile = make_certificate(prefix / "tls")
    http_port, https_port = free_port(), free_port()
    (prefix / "wayhome.conf").write_text(render_config(prefix, replicas, http_port, https_port))
    (prefix / "nginx.conf").write_text(main_config(prefix))
    cmd = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    check = subprocess.run([*cmd[:-2], "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proxy = Nginx(process, prefix, http_port, https_port, cafile)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stderr.read().decode(errors='replace')}")
        if _answers(http_port):
            return proxy
        time.sleep(0.05)
    proxy.stop()
    raise RuntimeError("nginx did not answer")
