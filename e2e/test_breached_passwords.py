"""Breached-password check (ASVS V2.1.7) against a local k-anonymity range service: the server sends
only the first 5 hex characters of the password's SHA-1 and refuses a password whose suffix is listed.
The check does not depend on the database, so these run on SQLite."""
import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import canary, error_code, free_port, password


def sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest().upper()


def random_suffix():
    return secrets.token_hex(18).upper()[:35]


class RangeService:
    """Answers GET /range/<prefix> with `<suffix>:<count>` lines: decoys, plus the listed hashes' suffixes."""

    def __init__(self, newline="\r\n"):
        self.newline = newline
        self.listed = {}  # full SHA-1 -> count
        self.requests = []  # (request line, headers, body)
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("latin-1") if length else ""
                with service.lock:
                    service.requests.append((self.requestline, str(self.headers), body))
                if not self.path.startswith("/range/"):
                    self.send_error(404)
                    return
                prefix = self.path[len("/range/"):].upper()
                lines = ["%s:%d" % (random_suffix(), 1 + secrets.randbelow(5000)) for _ in range(20)]
                lines += ["%s:0" % random_suffix() for _ in range(5)]  # padding entries, as the real service adds
                lines += ["%s:%d" % (full[5:], count) for full, count in service.listed.items() if full[:5] == prefix]
                secrets.SystemRandom().shuffle(lines)
                payload = service.newline.join(lines).encode("ascii")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.base = "http://127.0.0.1:%d/range" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def list(self, password_text, count=3861493):
        self.listed[sha1(password_text)] = count

    def seen(self):
        with self.lock:
            return list(self.requests)


@pytest.fixture
def range_service():
    service = RangeService()
    service.thread.start()
    yield service
    service.httpd.shutdown()
    service.httpd.server_close()


@pytest.fixture
def breach_server(make_server, range_service):
    return make_server("sqlite", env={"CLINICKEEP_BREACHED_RANGE_URL": range_service.base})


def sign_up(server, password_text):
    body = {"name": "Clinic " + canary(), "owner": {"email": "%s@%s.example" % (canary("m").lower(), canary("d").lower()),
                                                     "name": canary("Own"), "password": password_text}}
    return server.client().request("POST", "/api/v1/clinics", json=body)


def assert_breached(response, field):
    assert response.status_code == 400, response.text
    assert error_code(response) == "password_breached" and response.json()["error"]["field"] == field, response.text


# V2.1.7: sign-up with a password the range service lists is refused (400 password_breached)
def test_V2_1_7_sign_up_with_a_breached_password_is_refused(breach_server, range_service):
    breached = password()
    range_service.list(breached)
    assert_breached(sign_up(breach_server, breached), "owner.password")


# V2.1.7: a password the service does not list is accepted (201)
def test_V2_1_7_sign_up_with_a_fresh_password_is_accepted(breach_server, range_service):
    range_service.list(password())
    response = sign_up(breach_server, password())
    assert response.status_code == 201, response.text
    assert range_service.seen(), "the server never asked the range service"


# V2.1.7: the service only ever sees 5-hex-character prefixes, never the password or its full hash
def test_V2_1_7_the_range_service_only_receives_five_hex_prefixes(breach_server, range_service):
    breached, fresh = password(), password()
    range_service.list(breached)
    assert sign_up(breach_server, breached).status_code == 400
    assert sign_up(breach_server, fresh).status_code == 201
    seen = range_service.seen()
    paths = [line.split(" ")[1] for line, _, _ in seen]
    assert {"/range/" + sha1(breached)[:5], "/range/" + sha1(fresh)[:5]} <= set(paths), paths
    for line, headers, body in seen:
        assert line.startswith("GET "), line
        path = line.split(" ")[1]
        assert len(path) == len("/range/") + 5 and all(c in "0123456789ABCDEF" for c in path[len("/range/"):]), path
        everything = (line + headers + body).upper()
        for secret in [breached, fresh]:
            assert secret.upper() not in everything and secret.replace(" ", "+").upper() not in everything
            assert sha1(secret) not in everything and sha1(secret)[5:] not in everything


# The range service's lines may end in LF as well as CRLF
def test_V2_1_7_lf_line_endings_are_read_too(breach_server, range_service):
    range_service.newline = "\n"
    breached = password()
    range_service.list(breached)
    assert_breached(sign_up(breach_server, breached), "owner.password")


# A suffix listed with count 0 (padding) is not a breach
def test_a_suffix_listed_with_count_0_is_not_breached(breach_server, range_service):
    padded = password()
    range_service.list(padded, count=0)
    response = sign_up(breach_server, padded)
    assert response.status_code == 201, response.text


# V2.1.7: changing one's password to a breached one is refused too (field newPassword)
def test_V2_1_7_changing_to_a_breached_password_is_refused(breach_server, range_service):
    owner = breach_server.client().sign_up()
    breached = password()
    range_service.list(breached)
    response = owner.request("POST", "/api/v1/me/password", json={"currentPassword": owner.password, "newPassword": breached})
    assert_breached(response, "newPassword")


# When the range service cannot be reached the password is accepted (and the server keeps working)
def test_an_unreachable_range_service_lets_the_password_through(make_server):
    server = make_server("sqlite", env={"CLINICKEEP_BREACHED_RANGE_URL": "http://127.0.0.1:%d/range" % free_port()})
    response = sign_up(server, password())
    assert response.status_code == 201, response.text
