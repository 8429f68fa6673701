"""The deployment files: deploy/nginx/jiuye.conf, deploy/jiuye.service, deploy/jiuye.env.example
and gunicorn.conf.py.

nginx: `nginx -t` on the site inside a minimal nginx.conf (temp prefix, a self-signed certificate
made here), then the same site run for real on free local ports in front of a stub upstream
that echoes the headers it receives. Skipped when nginx is not installed (`make nginx`).
systemd: `systemd-analyze verify` on the unit with its paths pointed at this checkout (skipped
without systemd-analyze), and a parse of the unit itself.
"""
from __future__ import annotations

import configparser
import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from knowledge.settings import DEFAULTS

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SITE = DEPLOY / "nginx" / "jiuye.conf"
UNIT = DEPLOY / "jiuye.service"
ENV_EXAMPLE = DEPLOY / "jiuye.env.example"
VENV_BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
# Variables gunicorn.conf.py reads (not settings of the app)
GUNICORN_ENV = {"JIUYE_BIND", "JIUYE_THREADS", "JIUYE_PRELOAD", "JIUYE_TIMEOUT", "JIUYE_ACCESS_LOG",
                "WEB_CONCURRENCY"}


# -- gunicorn.conf.py -----------------------------------------------------------------------------
def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUYE_")}
    return {**env, "JIUYE_CONFIG": str(REPO / "tests" / "data" / "empty-config.toml"), **extra}


def test_gunicorn_config_serves_in_production_with_preloaded_threaded_workers():
    out = subprocess.run([str(VENV_BIN / "gunicorn"), "--print-config", "-c", str(REPO / "gunicorn.conf.py"),
                          "webhooks:create_app()"], cwd=REPO, env=clean_env(), capture_output=True, text=True,
                         timeout=60)
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", out.stdout, re.M))
    assert config["worker_class"] == "gthread" and config["preload_app"] == "True"
    assert config["workers"] == "2" and config["bind"] == "['127.0.0.1:8000']"
    assert config["control_socket_disable"] == "True"
    probe = "import os, runpy; runpy.run_path('gunicorn.conf.py'); print(os.environ['JIUYE_ENV'])"
    assert subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=clean_env(), capture_output=True,
                          text=True).stdout.strip() == "production"
    assert subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=clean_env(JIUYE_ENV="development"),
                          capture_output=True, text=True).stdout.strip() == "development"


def test_gunicorn_check_config_loads_the_app_and_refuses_a_missing_secret_key(tmp_path):
    command = [str(VENV_BIN / "gunicorn"), "--check-config", "-c", str(REPO / "gunicorn.conf.py"),
               "webhooks:create_app()"]
    env = clean_env(JIUYE_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}", JIUYE_WARM_START="0")
    refused = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "JIUYE_SECRET_KEY" in refused.stdout + refused.stderr
    accepted = subprocess.run(command, cwd=REPO, env={**env, "JIUYE_SECRET_KEY": "s" * 43}, capture_output=True,
                              text=True, timeout=120)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


# -- systemd unit and environment file -------------------------------------------------------------
def read_unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNIT, encoding="utf-8")
    return parser


def test_the_unit_runs_the_repos_gunicorn_config_with_the_environment_file():
    service = read_unit()["Service"]
    assert service["EnvironmentFile"] == "/etc/jiuye/jiuye.env"
    start = service["ExecStart"].split()
    assert start[0] == "/srv/jiuye/.venv/bin/gunicorn" and start[start.index("-c") + 1] == "/srv/jiuye/gunicorn.conf.py"
    assert start[-1] == '"webhooks:create_app()"'
    assert service["ExecStartPre"].split()[-4:] == ["--app", "webhooks", "db", "upgrade"]
    assert service["WorkingDirectory"] == "/srv/jiuye" and service["User"] == "jiuye"
    assert service["Restart"] == "on-failure" and service["Type"] == "notify"
    for hardening in ("NoNewPrivileges", "PrivateTmp"):
        assert service[hardening] == "yes"
    assert service["ProtectSystem"] == "strict" and "/srv/jiuye/instance" in service["ReadWritePaths"].split()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # The unit pointed at this checkout (its binaries must exist) and run as root (no jiuye user here).
    env_file = tmp_path / "jiuye.env"
    env_file.write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    text = (UNIT.read_text(encoding="utf-8").replace("/srv/jiuye", str(REPO))
            .replace("/etc/jiuye/jiuye.env", str(env_file))
            .replace("User=jiuye", "User=root").replace("Group=jiuye", "Group=root"))
    unit = tmp_path / "jiuye.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "jiuye.service" in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


def test_the_environment_example_names_only_real_settings_and_sets_production():
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and name == name.strip() and "#" not in value, f"not NAME=value: {line!r}"
            values[name] = value
    assert values["JIUYE_ENV"] == "production" and values["JIUYE_SECRET_KEY"] == ""  # to be filled in
    for name in values:
        if name in GUNICORN_ENV:
            continue
        assert name.startswith("JIUYE_"), name
        node: object = DEFAULTS
        for part in name[len("JIUYE_"):].split("__"):
            assert isinstance(node, dict) and part in node, f"{name} is no setting in knowledge/settings.py"
            node = node[part]


# -- nginx ------------------------------------------------------------------------------------------
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx not installed (make nginx)")


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jiuye.example.gov.cn")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("jiuye.example.gov.cn"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_prefix(tmp_path: Path, site: str) -> Path:
    """A prefix folder with nginx.conf (pid, logs and temp folders inside it) that includes `site`."""
    for sub in ("logs", "tmp"):
        (tmp_path / sub).mkdir(exist_ok=True)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").is_file() else ""
    user = "user root;" if os.geteuid() == 0 else ""  # as root, workers would otherwise drop to nobody
    temp = " ".join(f"{kind}_temp_path {tmp_path / 'tmp' / kind};" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {tmp_path / 'nginx.pid'};
error_log {tmp_path / 'logs' / 'error.log'} warn;
events {{ worker_connections 64; }}
http {{
    {mime}
    access_log {tmp_path / 'logs' / 'access.log'};
    {temp}
    include {tmp_path / 'site.conf'};
}}
""", encoding="utf-8")
    return tmp_path


def site_for_test(tmp_path: Path, http_port: int = 80, https_port: int = 443, upstream: str = "127.0.0.1:8000") -> str:
    cert, key = self_signed(tmp_path)
    site = SITE.read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/jiuye/fullchain.pem", str(cert)).replace("/etc/ssl/jiuye/privkey.pem", str(key))
    site = site.replace("/srv/jiuye/", f"{REPO}/")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("listen [::]:443 ssl http2;", "").replace("server 127.0.0.1:8000;", f"server {upstream};")
    return site


@needs_nginx
def test_nginx_accepts_the_site(tmp_path):
    site = SITE.read_text(encoding="utf-8")
    cert, key = self_signed(tmp_path)
    site = site.replace("/etc/ssl/jiuye/fullchain.pem", str(cert)).replace("/etc/ssl/jiuye/privkey.pem", str(key))
    prefix = nginx_prefix(tmp_path, site)
    done = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "[warn]" not in done.stderr and "[emerg]" not in done.stderr, done.stderr


class EchoHeaders(BaseHTTPRequestHandler):
    """The stub app: answers every request with the headers and body it received, as JSON."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        data = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *_args) -> None:  # quiet
        pass


@pytest.fixture()
def nginx_in_front(tmp_path):
    """The site running on free local ports in front of EchoHeaders; yields a client that trusts its
    certificate, the http base and the https base."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), EchoHeaders)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    site = site_for_test(tmp_path, http_port, https_port, f"127.0.0.1:{upstream.server_address[1]}")
    prefix = nginx_prefix(tmp_path, site)
    log = (tmp_path / "logs" / "nginx.out").open("wb")
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = requests.Session()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"nginx exited: {(tmp_path / 'logs' / 'nginx.out').read_text(errors='replace')}")
                time.sleep(0.05)
        client.trust_env = False
        client.verify = str(tmp_path / "fullchain.pem")  # the test's self-signed certificate (SAN 127.0.0.1)
        yield client, f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}"
    finally:
        client.close()
        proc.terminate()  # the nginx this test started, by its id
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        upstream.shutdown()
        upstream.server_close()


@needs_nginx
def test_nginx_redirects_proxies_with_forwarded_headers_and_hides_metrics(nginx_in_front):
    s, http, https = nginx_in_front
    host = {"Host": "jiuye.example.gov.cn"}

    r = s.get(http + "/policies?x=1", headers=host, allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "https://jiuye.example.gov.cn/policies?x=1"

    r = s.post(https + "/api/v1/ask", json={"text": "见习补贴"}, timeout=10,
               headers={**host, "X-Forwarded-For": "6.6.6.6", "X-Request-ID": "forged"})
    seen = r.json()
    assert seen["path"] == "/api/v1/ask" and json.loads(seen["body"]) == {"text": "见习补贴"}
    h = seen["headers"]
    assert h["host"] == "jiuye.example.gov.cn" and h["x-forwarded-proto"] == "https"
    assert h["x-forwarded-host"] == "jiuye.example.gov.cn"
    assert h["x-forwarded-for"] == "127.0.0.1"          # the client's own claim is not passed on
    assert re.fullmatch(r"[0-9a-f]{32}", h["x-request-id"])  # nginx's id, not the client's
    assert r.headers["X-Request-ID"] == h["x-request-id"]

    assert s.get(https + "/metrics", headers=host, timeout=10).status_code == 404
    assert s.get(https + "/metrics?format=prometheus", headers=host, timeout=10).status_code == 404
    too_big = s.post(https + "/api/v1/ask", data=b"x" * (1024 * 1024 + 1), headers=host, timeout=10)
    assert too_big.status_code == 413


@needs_nginx
def test_nginx_serves_static_files_long_cached_only_when_versioned(nginx_in_front):
    s, _, https = nginx_in_front
    host = {"Host": "jiuye.example.gov.cn"}
    css = (REPO / "webhooks" / "static" / "web" / "site.css").read_bytes()
    versioned = s.get(https + "/static/web/site.css?v=0123456789", headers=host, timeout=10)
    assert versioned.status_code == 200 and versioned.content == css
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["Content-Type"].startswith("text/css")
    assert versioned.headers["X-Content-Type-Options"] == "nosniff"
    plain = s.get(https + "/static/web/site.css", headers=host, timeout=10)
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    console = s.get(https + "/static/console/console.css", headers=host, timeout=10)
    assert console.status_code == 200 and console.headers["Cache-Control"] == "no-cache"
    # nginx resolves dot segments before the alias: no file outside webhooks/static is reachable
    for path in ("/static/web/..%2f..%2f__init__.py", "/static/web/%2e%2e/%2e%2e/__init__.py"):
        assert b"def create_app" not in s.get(https + path, headers=host, timeout=10).content


def test_the_apps_static_urls_are_versioned_as_nginx_expects(app):
    """nginx keeps /static/web/…?v=… for a year: the app must put a content hash in every such URL."""
    page = app.test_client().get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert urls and all(re.search(r"\?v=[0-9a-f]{10}$", u) for u in urls if u.startswith("/static/web/")), urls
