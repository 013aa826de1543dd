"""Transport security and the headers every response carries.

These do not depend on the database, so they run on SQLite only."""
import re
import socket
import ssl

import pytest


def handshake(server, minimum=None, maximum=None):
    context = ssl.create_default_context(cafile=server.cert)
    if minimum:
        context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version()


# PRX-3, DU-1: TLS 1.3 is offered
def test_a_tls_1_3_client_connects(sqlite_server):
    assert handshake(sqlite_server, minimum=ssl.TLSVersion.TLSv1_3) == "TLSv1.3"


# PRX-3: anything older than TLS 1.3 is refused by default
def test_a_tls_1_2_only_client_is_refused(sqlite_server):
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        handshake(sqlite_server, maximum=ssl.TLSVersion.TLSv1_2)
    # The refusal is about the version: the server is still up and a TLS 1.3 client still connects.
    assert handshake(sqlite_server) == "TLSv1.3"


def assert_security_headers(response):
    hsts = response.headers.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age and int(max_age.group(1)) >= 31536000, hsts
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert "default-src" in csp, csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


# DAO-4, DU-4, DC-14: HSTS and a strict policy on every kind of response
@pytest.mark.parametrize("path,status", [("/healthz", 200), ("/login", 200), ("/setup?token=nope", 404),
                                         ("/api/v1/me", 401), ("/api/v1/does-not-exist", 404)])
def test_security_headers_on_every_response(sqlite_server, path, status):
    response = sqlite_server.get(path)
    assert response.status_code == status, response.text
    assert_security_headers(response)


# DC-16, DAO-4: an unknown API path is a 404 in the JSON error shape, with the same headers
def test_an_unknown_api_path_is_a_json_404_with_the_headers(sqlite_server):
    response = sqlite_server.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"
    assert_security_headers(response)


# DAO-4, DC-14: headers on a signed-in JSON answer and on an error answer to bad input
def test_security_headers_on_signed_in_and_error_answers(sqlite_server):
    owner = sqlite_server.client().sign_up()
    assert_security_headers(owner.request("GET", owner.patients_path()))
    bad = owner.request("POST", owner.patients_path(), data="{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert_security_headers(bad)
