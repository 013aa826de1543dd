"""Fixtures that start the real `clinickeep` binary on a fresh data directory and drive it from
outside over HTTPS, on SQLite and on PostgreSQL (as the server's own role)."""
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = os.environ.get("CLINICKEEP_BIN", str(REPO / ".build" / "debug" / "clinickeep"))
SESSION_COOKIE = "__Host-clinickeep-session"
PASSWORD = "velvet harbour 42 quietly drifting"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def canary(prefix="Zq"):
    return prefix + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))


def medicare():
    digits = [secrets.randbelow(5) + 2] + [secrets.randbelow(10) for _ in range(7)]
    digits.append(sum(d * w for d, w in zip(digits, [1, 3, 7, 9, 1, 3, 7, 9])) % 10)
    digits.append(secrets.randbelow(9) + 1)
    return "".join(map(str, digits))


def postgres_env():
    """The e2e database URLs from scripts/postgres-cluster.sh; missing means failure, never a skip."""
    names = ["CLINICKEEP_E2E_POSTGRES_APP_URL", "CLINICKEEP_E2E_POSTGRES_OWNER_URL",
             "CLINICKEEP_E2E_POSTGRES_SUPER_URL", "CLINICKEEP_POSTGRES_BIN"]
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.fail("PostgreSQL is required for these tests; run them through scripts/test (missing %s)" % ", ".join(missing))
    return {n: os.environ[n] for n in names}


def psql(url, sql):
    env = postgres_env()
    result = subprocess.run([env["CLINICKEEP_POSTGRES_BIN"] + "/psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Server:
    def __init__(self, backend):
        self.backend = backend
        self.data = Path(tempfile.mkdtemp(prefix="clinickeep-e2e-"))
        self.port = free_port()
        self.base = "https://127.0.0.1:%d" % self.port
        self.env = dict(os.environ, CLINICKEEP_SIGNUP="open", CLINICKEEP_BCRYPT_COST="10")
        for name in ["DATABASE_URL", "CLINICKEEP_MIGRATION_DATABASE_URL"]:
            self.env.pop(name, None)
        if backend == "postgres":
            pg = postgres_env()
            psql(pg["CLINICKEEP_E2E_POSTGRES_SUPER_URL"],
                 "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public AUTHORIZATION clinickeep_owner;")
            self.env["DATABASE_URL"] = pg["CLINICKEEP_E2E_POSTGRES_APP_URL"]
            self.env["CLINICKEEP_MIGRATION_DATABASE_URL"] = pg["CLINICKEEP_E2E_POSTGRES_OWNER_URL"]
        self.stdout_path = self.data / "stdout.log"
        self.stderr_path = self.data / "stderr.log"
        self.process = None

    @property
    def cert(self):
        return str(self.data / "tls-certificate.pem")

    def start(self):
        self.process = subprocess.Popen(
            [BIN, "serve", "--data-dir", str(self.data), "--port", str(self.port)],
            env=self.env, stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"), stdin=subprocess.DEVNULL)
        deadline = time.time() + 90
        while time.time() < deadline:
            assert self.process.poll() is None, "server exited: " + self.stderr_path.read_text(errors="replace")[-2000:]
            try:
                # The generated certificate names 127.0.0.1: verify against it, not verify=False.
                if Path(self.cert).exists() and requests.get(self.base + "/healthz", verify=self.cert, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError("server did not become healthy: " + self.stderr_path.read_text(errors="replace")[-2000:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self):
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def command(self, *args):
        """Runs another clinickeep command against this server's data and database."""
        return subprocess.run([BIN, *args, "--data-dir", str(self.data)], env=self.env, capture_output=True, text=True, timeout=120)

    def client(self):
        return Client(self)


class Client:
    """A person using the API with a cookie, as a browser or script would."""

    def __init__(self, server):
        self.server = server
        self.cookie = None
        self.csrf = None
        self.clinic_id = None
        self.user_id = None
        self.email = None

    def request(self, method, path, json=None, csrf=True, headers=None, data=None):
        all_headers = dict(headers or {})
        if self.cookie:
            all_headers["Cookie"] = "%s=%s" % (SESSION_COOKIE, self.cookie)
            if csrf and method in ("POST", "PATCH", "PUT", "DELETE"):
                all_headers["X-CSRF-Token"] = self.csrf
        return requests.request(method, self.server.base + path, json=json, data=data, headers=all_headers,
                                verify=self.server.cert, timeout=30, allow_redirects=False)

    def sign_up(self, name=None):
        self.email = "%s@%s.example" % (canary("m").lower(), canary("d").lower())
        response = self.request("POST", "/api/v1/clinics", json={
            "name": name or "Clinic " + canary(), "owner": {"email": self.email, "name": canary("Owner"), "password": PASSWORD}})
        assert response.status_code == 201, response.text
        self.clinic_id = response.json()["clinic"]["id"]
        self.user_id = response.json()["user"]["id"]
        return self.log_in()

    def log_in(self):
        response = self.request("POST", "/api/v1/auth/login", json={"email": self.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        match = re.search(SESSION_COOKIE + r"=([^;]+)", response.headers["Set-Cookie"])
        self.cookie = match.group(1)
        self.csrf = response.json()["csrfToken"]
        return self

    def patients_path(self, clinic_id=None):
        return "/api/v1/clinics/%s/patients" % (clinic_id or self.clinic_id)

    def create_patient(self, **overrides):
        digits = "".join(str(secrets.randbelow(10)) for _ in range(8))
        fields = {"givenName": canary("Gv"), "familyName": canary("Fm"), "birthDate": "1981-07-09",
                  "phone": "04%s %s %s" % (digits[:2], digits[2:5], digits[5:]), "email": "%s@%s.example" % (canary("p").lower(), canary("h").lower()),
                  "address": "%d %s Lane" % (secrets.randbelow(900) + 10, canary("St")), "medicareNumber": medicare()}
        fields.update(overrides)
        response = self.request("POST", self.patients_path(), json=fields)
        assert response.status_code == 201, response.text
        return response.json()["id"], fields


@pytest.fixture(params=["sqlite", "postgres"])
def server(request):
    started = Server(request.param).start()
    yield started
    started.stop()


@pytest.fixture
def sqlite_server():
    started = Server("sqlite").start()
    yield started
    started.stop()


@pytest.fixture
def postgres_server():
    started = Server("postgres").start()
    yield started
    started.stop()
