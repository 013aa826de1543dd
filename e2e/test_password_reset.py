"""Password reset by e-mail (ASVS V2.5) and the lockout e-mail, delivered by the server's outbox
sender to a local SMTP sink (aiosmtpd) on SQLite and PostgreSQL."""
import email
import email.policy
import re
import ssl
import subprocess
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import canary, error_code, free_port, password

MAIL_TIMEOUT = 10.0
FAST = {"CLINICKEEP_THROTTLE_DELAY_MS": "0"}


class Sink:
    """An aiosmtpd handler keeping every message: (envelope recipients, parsed message)."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(([r.lower() for r in envelope.rcpt_tos], message))
        return "250 Message accepted for delivery"

    def to(self, address):
        with self.lock:
            return [m for rcpts, m in self.messages if address.lower() in rcpts]

    def wait_for(self, address, matching=lambda message: True, timeout=MAIL_TIMEOUT):
        """The first message to `address` that `matching` accepts; polls up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.to(address) if matching(m)]
            if found:
                return found[0]
            assert time.monotonic() < deadline, "no matching mail to %s within %ss; got %r" % (
                address, timeout, [(r, m["Subject"]) for r, m in self.messages])
            time.sleep(0.1)


def text_of(message):
    """Subject and every text part, transfer encoding undone."""
    parts = [str(message["Subject"] or "")]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.url = "smtp://127.0.0.1:%d" % controller.port
    yield sink
    controller.stop()


@pytest.fixture
def mail_server(backend, make_server, smtp_sink):
    server = make_server(backend, env={"CLINICKEEP_SMTP_URL": smtp_sink.url, **FAST})
    server.sink = smtp_sink
    return server


def request_reset(server, address):
    return server.client().request("POST", "/api/v1/auth/password-reset", json={"email": address})


def reset_link(server, owner):
    """Requests a reset for the owner and returns the token from the link mailed to them."""
    response = request_reset(server, owner.email)
    assert response.status_code == 202, response.text
    pattern = re.escape(server.base) + r"/reset-password\?token=([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])"
    message = server.sink.wait_for(owner.email, lambda m: re.search(pattern, text_of(m)))
    return re.search(pattern, text_of(message)).group(1)


def complete(server, token, new_password):
    return server.client().request("POST", "/api/v1/auth/password-reset/complete", json={"token": token, "newPassword": new_password})


def assert_token_refused(response):
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "reset_token_invalid" and response.json()["error"]["field"] == "token"


# V2.5.1: a reset request answers 202 and mails the account a link with a 43-character token
def test_V2_5_1_a_reset_request_mails_a_link_to_the_account(mail_server):
    owner = mail_server.client().sign_up()
    token = reset_link(mail_server, owner)
    assert len(token) == 43


# V2.5.1: completing with the token sets the new password (204): the new one signs in, the old not
def test_V2_5_1_completing_the_reset_sets_the_new_password(mail_server):
    owner = mail_server.client().sign_up()
    old, new = owner.password, password()
    token = reset_link(mail_server, owner)
    done = complete(mail_server, token, new)
    assert done.status_code == 204, done.text
    assert owner.login_response(password=old).status_code == 401
    response = owner.login_response(password=new)
    assert response.status_code == 200 and response.json()["next"] == "done", response.text


# V3.3.3: completing the reset ends every session the person had
def test_V3_3_3_completing_the_reset_ends_every_session(mail_server):
    owner = mail_server.client().sign_up()
    second = mail_server.client()
    second.email, second.password = owner.email, owner.password
    second.log_in()
    token = reset_link(mail_server, owner)
    assert complete(mail_server, token, password()).status_code == 204
    for client in [owner, second]:
        assert client.request("GET", "/api/v1/me").status_code == 401
        assert client.request("GET", client.patients_path(owner.clinic_id)).status_code == 401


# V2.5.x: the token is single-use: a second completion is refused (400 reset_token_invalid)
def test_V2_5_the_reset_token_cannot_be_used_twice(mail_server):
    owner = mail_server.client().sign_up()
    token = reset_link(mail_server, owner)
    first_password, second_password = password(), password()
    assert complete(mail_server, token, first_password).status_code == 204
    assert_token_refused(complete(mail_server, token, second_password))
    assert owner.login_response(password=first_password).status_code == 200


# V2.5.x: a made-up token is refused the same way
def test_V2_5_an_unknown_reset_token_is_refused(mail_server):
    assert_token_refused(complete(mail_server, "A" * 43, password()))


# V2.1.x: the new password must pass the policy (400, field newPassword); the old one still signs in
def test_a_reset_to_a_too_short_password_is_refused(mail_server):
    owner = mail_server.client().sign_up()
    token = reset_link(mail_server, owner)
    refused = complete(mail_server, token, "short")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "password_too_short" and refused.json()["error"]["field"] == "newPassword"
    assert owner.login_response().status_code == 200


# V2.5.x (no account enumeration): an unknown e-mail still gets 202, and no mail is sent to it
def test_V2_5_an_unknown_email_gets_202_and_no_mail(mail_server):
    owner = mail_server.client().sign_up()
    unknown = "%s@%s.example" % (canary("u").lower(), canary("d").lower())
    response = request_reset(mail_server, unknown)
    assert response.status_code == 202, response.text
    reset_link(mail_server, owner)  # requested after: once its mail has arrived, the sender has run
    time.sleep(1.5)
    assert mail_server.sink.to(unknown) == []


# V2.2.1: at most 3 reset requests per e-mail in 15 minutes, then 429
def test_V2_2_1_reset_requests_are_throttled_per_email(mail_server):
    owner = mail_server.client().sign_up()
    answers = [request_reset(mail_server, owner.email).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429], answers


# V2.5.x: a completed reset clears the account's login lockout
def test_V2_5_a_completed_reset_clears_the_login_lockout(mail_server):
    owner = mail_server.client().sign_up()
    client = mail_server.client()
    for _ in range(11):
        client.request("POST", "/api/v1/auth/login", json={"email": owner.email, "password": "not the password " + canary()})
    assert owner.login_response().status_code == 429
    new = password()
    assert complete(mail_server, reset_link(mail_server, owner), new).status_code == 204
    response = owner.login_response(password=new)
    assert response.status_code == 200, response.text


# V2.2.3: when an account is locked its owner is e-mailed (subject contains "locked")
def test_V2_2_3_a_lockout_mails_the_account_owner(mail_server):
    owner = mail_server.client().sign_up()
    client = mail_server.client()
    for _ in range(10):
        client.request("POST", "/api/v1/auth/login", json={"email": owner.email, "password": "not the password " + canary()})
    message = mail_server.sink.wait_for(owner.email, lambda m: "locked" in str(m["Subject"]).lower())
    assert owner.email in str(message["To"]).lower()


class TLSSink(Sink):
    """The sink behind STARTTLS with AUTH: it notes whether each message came over TLS, and
    whether credentials were ever offered in the clear."""

    def __init__(self):
        super().__init__()
        self.secured = []
        self.plain_auth = False

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.secured.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


def self_signed(folder):
    """A certificate for localhost and 127.0.0.1 and its key, made with openssl."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


# Security review round 2, A7 (POR-1): smtp:// upgrades with STARTTLS and verifies the certificate
# against CLINICKEEP_SMTP_CA_FILE; credentials and the reset link never cross in the clear, and a
# server whose certificate is not trusted gets nothing.
def test_smtp_upgrades_with_starttls_verifies_the_certificate_and_authenticates_only_under_tls(make_server, tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    sink = TLSSink()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((session.ssl is not None, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"relay" and auth_data.password == b"relay-secret")

    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                            authenticator=authenticator, auth_require_tls=True, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        url = "smtp://relay:relay-secret@localhost:%d" % controller.port
        trusted = make_server("sqlite", env={"CLINICKEEP_SMTP_URL": url, "CLINICKEEP_SMTP_CA_FILE": str(cert), **FAST})
        trusted.sink = sink
        owner = trusted.client().sign_up()
        assert len(reset_link(trusted, owner)) == 43
        assert sink.secured and all(sink.secured), sink.secured
        assert logins and all(secure for secure, _, _ in logins), "credentials were offered outside TLS"
        trusted.stop()

        # The same relay without its certificate trusted: nothing is delivered, the failure is logged.
        untrusted = make_server("sqlite", env={"CLINICKEEP_SMTP_URL": url, **FAST})
        stranger = untrusted.client().sign_up()
        delivered = len(sink.messages)
        assert request_reset(untrusted, stranger.email).status_code == 202
        deadline = time.monotonic() + 10
        while "e-mail not sent" not in untrusted.output() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "e-mail not sent" in untrusted.output()
        assert len(sink.messages) == delivered and not sink.to(stranger.email)
    finally:
        controller.stop()
