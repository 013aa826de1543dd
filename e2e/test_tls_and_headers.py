import socket
import ssl

import pytest
import requests


def handshake(server, maximum=None, minimum=None):
    context = ssl.create_default_context(cafile=server.cert)
    if maximum:
        context.maximum_version = maximum
    if minimum:
        context.minimum_version = minimum
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version()


# PRX-3, DU-1: TLS 1.3 offered, anything older refused by default
def test_tls_1_3_is_offered(sqlite_server):
    assert handshake(sqlite_server, minimum=ssl.TLSVersion.TLSv1_3) == "TLSv1.3"


def test_tls_1_2_is_refused(sqlite_server):
    with pytest.raises(ssl.SSLError):
        handshake(sqlite_server, maximum=ssl.TLSVersion.TLSv1_2)


# DAO-4, DU-4, DC-14: HSTS and a strict policy on every response, errors included
@pytest.mark.parametrize("path", ["/healthz", "/api/v1/does-not-exist", "/login"])
def test_security_headers_on_every_response(sqlite_server, path):
    response = requests.get(sqlite_server.base + path, verify=sqlite_server.cert, timeout=10)
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if path.startswith("/api"):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
