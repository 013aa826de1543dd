"""Fixtures that start the real `clinickeep` binary on a fresh data directory and drive it from
outside over HTTPS, on SQLite and on PostgreSQL (as the server's own role).

The binary is $CLINICKEEP_BIN (default <repo>/.build/debug/clinickeep). PostgreSQL comes from
scripts/postgres-cluster.sh (its env file): without it the PostgreSQL tests FAIL, never skip.
"""
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = os.environ.get("CLINICKEEP_BIN") or str(REPO / ".build" / "debug" / "clinickeep")
SESSION_COOKIE = "__Host-clinickeep-session"
START_TIMEOUT = float(os.environ.get("CLINICKEEP_E2E_START_TIMEOUT", "60"))
POSTGRES_NAMES = ["CLINICKEEP_E2E_POSTGRES_APP_URL", "CLINICKEEP_E2E_POSTGRES_OWNER_URL",
                  "CLINICKEEP_E2E_POSTGRES_SUPER_URL", "CLINICKEEP_POSTGRES_BIN"]
WORDS = ["harbour", "velvet", "quietly", "lantern", "drifting", "orchard", "copper", "meadow",
         "thistle", "juniper", "saffron", "glacier", "pebble", "marmot", "kestrel", "tundra"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def canary(prefix="Zq"):
    """A distinctive value that cannot occur by chance in a file or a log."""
    return prefix + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(9))


def password():
    """12+ characters, not on any common-password list: random words and digits."""
    return "%s %s %s %d" % (secrets.choice(WORDS), secrets.choice(WORDS), secrets.choice(WORDS), 1000 + secrets.randbelow(9000))


def medicare():
    """A valid Australian Medicare number (check digit at position 9), e.g. 2123 45670 1."""
    digits = [secrets.randbelow(5) + 2] + [secrets.randbelow(10) for _ in range(7)]
    digits.append(sum(d * w for d, w in zip(digits, [1, 3, 7, 9, 1, 3, 7, 9])) % 10)
    digits.append(secrets.randbelow(9) + 1)
    return "".join(map(str, digits))


def postgres_env():
    """The e2e database URLs from scripts/postgres-cluster.sh; missing means failure, never a skip."""
    missing = [n for n in POSTGRES_NAMES if not os.environ.get(n)]
    if missing:
        pytest.fail("PostgreSQL is required for these tests and is not configured (missing %s). "
                    "Run the suite through scripts/test, or source the env file printed by "
                    "`scripts/postgres-cluster.sh start`." % ", ".join(missing), pytrace=False)
    return {n: os.environ[n] for n in POSTGRES_NAMES}


def pg_tool(name):
    return os.path.join(postgres_env()["CLINICKEEP_POSTGRES_BIN"], name)


def run_psql(url, sql):
    """psql from the cluster's own bin directory; returns the CompletedProcess (no assertion)."""
    return subprocess.run([pg_tool("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-Atq", "-d", url, "-c", sql],
                          capture_output=True, text=True, timeout=60)


def psql(url, sql):
    result = run_psql(url, sql)
    assert result.returncode == 0, "psql failed: " + result.stderr
    return result.stdout.strip()


def reset_e2e_database():
    """An empty schema for each server: as the superuser, so nothing survives from a previous test."""
    psql(postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"],
         "DROP SCHEMA IF EXISTS reporting CASCADE; DROP SCHEMA IF EXISTS public CASCADE; "
         "CREATE SCHEMA public AUTHORIZATION clinickeep_owner;")


class Server:
    """One `clinickeep serve` process on its own data directory and port."""

    def __init__(self, backend, env=None, reset_database=True):
        """env: extra environment (CLINICKEEP_* settings) over the defaults below. reset_database=False
        starts a further instance on the PostgreSQL database another server already uses."""
        self.backend = backend
        self.reset_database = reset_database
        self.data = Path(tempfile.mkdtemp(prefix="clinickeep-e2e-"))
        self.logs = Path(tempfile.mkdtemp(prefix="clinickeep-e2e-logs-"))
        self.port = free_port()
        self.base = "https://127.0.0.1:%d" % self.port
        # Nothing from the caller's environment configures the server but what is set here.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICKEEP_") and k != "DATABASE_URL"}
        self.env.update(CLINICKEEP_SIGNUP="open", CLINICKEEP_BCRYPT_COST="10", CLINICKEEP_SECURITY_CONTACT="mailto:security@e2e.example",
                        # The suites sign up many clinics from one address: rate limits (not lockouts) raised.
                        CLINICKEEP_RATE_LIMIT_SCALE="1000")
        if backend == "postgres":
            pg = postgres_env()
            self.env["DATABASE_URL"] = pg["CLINICKEEP_E2E_POSTGRES_APP_URL"]
            self.env["CLINICKEEP_MIGRATION_DATABASE_URL"] = pg["CLINICKEEP_E2E_POSTGRES_OWNER_URL"]
        self.env.update(env or {})
        self.stdout_path = self.logs / "stdout.log"
        self.stderr_path = self.logs / "stderr.log"
        self.process = None
        self.clients = []

    @property
    def cert(self):
        """The self-signed certificate the server generates for 127.0.0.1 and localhost.

        Every request verifies against it (verify=<this path>): no verify=False anywhere, so a
        certificate that does not name 127.0.0.1 fails the suite. Pass verify= on each request:
        requests lets REQUESTS_CA_BUNDLE override a Session's verify setting."""
        return str(self.data / "tls-certificate.pem")

    def start(self):
        assert os.access(BIN, os.X_OK), "no clinickeep binary at %s (set CLINICKEEP_BIN)" % BIN
        if self.backend == "postgres" and self.reset_database:
            reset_e2e_database()
            # A new database is a new ledger with a new signing key: its pin from the old one goes
            # too (a server meeting another database than its pins refuses to start).
            (self.data / "keystore" / "audit-signing-keys.pins").unlink(missing_ok=True)
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                [BIN, "serve", "--data-dir", str(self.data), "--port", str(self.port)],
                env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("clinickeep serve exited with %s:\n%s" % (self.process.returncode, self.output()[-3000:]))
            try:
                if Path(self.cert).exists() and self.get("/healthz").status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.25)
        self.stop()
        raise AssertionError("clinickeep serve did not answer /healthz within %ss:\n%s" % (START_TIMEOUT, self.output()[-3000:]))

    def stop(self):
        for client in self.clients:
            client.session.close()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stdout(self):
        return self.stdout_path.read_text(errors="replace")

    def output(self):
        """Everything the server wrote, stdout then stderr."""
        return self.stdout() + self.stderr_path.read_text(errors="replace")

    def command(self, *args):
        """Runs another clinickeep command against this server's data directory and database."""
        return subprocess.run([BIN, *args, "--data-dir", str(self.data)], env=self.env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    def get(self, path, **kwargs):
        """One anonymous GET on a connection of its own (closed again at once)."""
        with requests.Session() as session:
            session.trust_env = False
            return session.get(self.base + path, verify=self.cert, timeout=30, allow_redirects=False,
                               headers={"Connection": "close"}, **kwargs)

    def copy_key_file_from(self, other):
        """Before start(): the same key-encryption key as `other`, and its key store shared (as
        every server of one database shares it), for a second instance on its database."""
        shutil.copy2(other.data / "key-encryption-key.json", self.data / "key-encryption-key.json")
        self.env["CLINICKEEP_KEYSTORE_DIR"] = str(other.data / "keystore")

    def client(self):
        client = Client(self)
        self.clients.append(client)
        return client

    def cleanup(self, keep):
        if keep:
            print("kept for inspection: data %s, logs %s" % (self.data, self.logs))
        else:
            shutil.rmtree(self.data, ignore_errors=True)
            shutil.rmtree(self.logs, ignore_errors=True)


class Client:
    """A person using the API with the session cookie, as a browser or a script would."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or CA bundle from the environment: verify= is the certificate
        # The session cookie is sent by hand so each client is exactly one session: the jar keeps nothing.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.cookie = None
        self.csrf = None
        self.clinic_id = None
        self.user_id = None
        self.email = None
        self.name = None
        self.password = None

    def request(self, method, path, json=None, csrf=True, headers=None, data=None, anonymous=False):
        """anonymous=True sends no session cookie (and so no CSRF token)."""
        # One connection per request: a kept-alive connection would hold up the server's shutdown.
        all_headers = {"Connection": "close", **(headers or {})}
        if self.cookie and not anonymous:
            all_headers["Cookie"] = "%s=%s" % (SESSION_COOKIE, self.cookie)
            if csrf and method in ("POST", "PATCH", "PUT", "DELETE"):
                all_headers["X-CSRF-Token"] = self.csrf
        return self.session.request(method, self.server.base + path, json=json, data=data, headers=all_headers,
                                    verify=self.server.cert, timeout=30, allow_redirects=False)

    def sign_up(self, country=None):
        """Signs a new clinic up with this person as its owner, then logs in."""
        self.email = "%s@%s.example" % (canary("m").lower(), canary("d").lower())
        self.name = canary("Own")
        self.password = password()
        body = {"name": "Clinic " + canary(), "owner": {"email": self.email, "name": self.name, "password": self.password}}
        if country:
            body["country"] = country
        response = self.request("POST", "/api/v1/clinics", json=body)
        assert response.status_code == 201, response.text
        self.clinic_id = response.json()["clinic"]["id"]
        self.user_id = response.json()["user"]["id"]
        return self.log_in()

    def log_in(self):
        response = self.login_response()
        assert response.status_code == 200, response.text
        assert response.json()["next"] == "done", response.text
        return self

    def login_response(self, email=None, password=None):
        """POST /auth/login (without any current cookie); the answer, unchecked. On 200 this client
        takes the new cookie, which is a pending session when "next" is "mfa"."""
        response = self.request("POST", "/api/v1/auth/login", anonymous=True,
                                json={"email": email or self.email, "password": self.password if password is None else password})
        if response.status_code == 200:
            self.adopt(response)
            self.last_login = response
        return response

    def adopt(self, response):
        """Takes the session cookie and CSRF token a login or MFA answer gives."""
        self.cookie = session_cookie(response)
        assert self.cookie, "no session cookie in %r" % response.headers
        self.csrf = response.json()["csrfToken"]

    def complete_mfa(self, code):
        """POST /auth/mfa with the pending session; on 200 this client takes the new cookie."""
        response = self.request("POST", "/api/v1/auth/mfa", json={"code": code})
        if response.status_code == 200:
            self.adopt(response)
        return response

    def invite(self, roles):
        """As an owner or admin: invites a new person with these roles, who accepts (not yet signed in)."""
        member = self.server.client()
        member.email = "%s@%s.example" % (canary("s").lower(), canary("d").lower())
        member.name = canary("Stf")
        member.password = password()
        invited = self.request("POST", "/api/v1/clinics/%s/staff" % self.clinic_id,
                               json={"email": member.email, "name": member.name, "roles": roles})
        assert invited.status_code == 201, invited.text
        assert invited.json()["id"] and invited.json()["inviteToken"], invited.text
        accepted = member.request("POST", "/api/v1/invitations/accept",
                                  json={"inviteToken": invited.json()["inviteToken"], "name": member.name, "password": member.password})
        assert accepted.status_code == 201, accepted.text
        member.clinic_id = self.clinic_id
        member.user_id = accepted.json().get("userId")
        return member

    def session_ids(self):
        """(this session's id, the ids of the person's other sessions) from GET /me/sessions."""
        response = self.request("GET", "/api/v1/me/sessions")
        assert response.status_code == 200, response.text
        sessions = response.json()["sessions"]
        current = [s["id"] for s in sessions if s["current"]]
        assert len(current) == 1, sessions
        return current[0], [s["id"] for s in sessions if not s["current"]]

    def patients_path(self, clinic_id=None):
        return "/api/v1/clinics/%s/patients" % (clinic_id or self.clinic_id)

    def patient_path(self, patient_id, clinic_id=None):
        return self.patients_path(clinic_id) + "/" + patient_id

    def create_patient(self, **overrides):
        """Creates a patient whose every field is a distinctive canary; returns (id, what was sent)."""
        digits = "".join(str(secrets.randbelow(10)) for _ in range(8))
        fields = {"givenName": canary("Gv"), "familyName": canary("Fm"),
                  "birthDate": "19%02d-%02d-%02d" % (10 + secrets.randbelow(20), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28)),
                  "phone": "04%s %s %s" % (digits[:2], digits[2:5], digits[5:]),
                  "email": "%s@%s.example" % (canary("p").lower(), canary("h").lower()),
                  "address": "%d %s Lane" % (secrets.randbelow(900) + 10, canary("St")), "medicareNumber": medicare()}
        fields.update(overrides)
        response = self.request("POST", self.patients_path(), json=fields)
        assert response.status_code == 201, response.text
        return response.json()["id"], fields


def session_cookie(response):
    """The session cookie's value a response sets, or None (an expired, empty one counts as none)."""
    match = re.search(re.escape(SESSION_COOKIE) + r"=([^;,\s]+)", response.headers.get("Set-Cookie", ""))
    return match.group(1) if match else None


def error_code(response):
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def personal_values(fields):
    """The patient's personal values as they could appear at rest or in a log: each field, and the
    phone's significant digits (without spaces or the trunk 0, so E.164 storage is caught too)."""
    phone_digits = "".join(ch for ch in fields["phone"] if ch.isdigit()).lstrip("0")
    if phone_digits.startswith("61") and len(phone_digits) == 11:
        phone_digits = phone_digits[2:]
    return [fields["givenName"], fields["familyName"], fields["birthDate"], fields["email"], fields["address"],
            fields["medicareNumber"], phone_digits]


MEASUREMENTS = []


def report_measurement(line):
    """A figure a test measured, printed in the run's summary (passing or not)."""
    MEASUREMENTS.append(line)


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.section("measured")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        item.e2e_failed = True


def _serve(request, backend):
    server = Server(backend)
    try:
        server.start()
    except BaseException:
        server.stop()
        server.cleanup(keep=True)
        raise
    yield server
    server.stop()
    server.cleanup(keep=getattr(request.node, "e2e_failed", False))


@pytest.fixture(params=["sqlite", "postgres"])
def server(request):
    """A fresh server on each backend: the test runs once on SQLite and once on PostgreSQL."""
    yield from _serve(request, request.param)


@pytest.fixture
def sqlite_server(request):
    """For behaviour that does not depend on the database (TLS, headers, key file)."""
    yield from _serve(request, "sqlite")


@pytest.fixture
def postgres_server(request):
    yield from _serve(request, "postgres")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    """Each backend in turn, for tests that start their own servers with make_server."""
    return request.param


@pytest.fixture
def make_server(request):
    """make_server(backend, env={...}, reset_database=True, key_from=None): starts a server with extra
    environment; stopped (and its directories removed unless the test failed) after the test.
    key_from=<another Server> copies that server's key file in first (a second instance on its database)."""
    started = []

    def make(backend, env=None, reset_database=True, key_from=None):
        server = Server(backend, env=env, reset_database=reset_database)
        if key_from is not None:
            server.copy_key_file_from(key_from)
        started.append(server)
        return server.start()

    yield make
    for server in reversed(started):
        server.stop()
        server.cleanup(keep=getattr(request.node, "e2e_failed", False))
