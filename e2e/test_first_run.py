"""The first run of `clinickeep serve` on an empty data directory."""
import os
import re
import socket
import ssl
import stat
import subprocess


# DAO-4, DU-4: it tells the operator where it serves (HTTPS) and how to set up the first clinic
def test_first_run_prints_the_url_and_a_one_time_setup_link(server):
    out = server.stdout()
    assert "ClinicKeep is serving at %s" % server.base in out, out
    links = re.findall(r"https://127\.0\.0\.1:%d/setup\?token=[A-Za-z0-9_-]{22,}" % server.port, out)
    assert len(links) == 1, out


# DC-14: the setup link opens an HTML page with a form and no inline script
def test_the_setup_link_opens_the_setup_page(server):
    link = re.search(r"https://\S+/setup\?token=\S+", server.stdout()).group(0)
    page = server.get(link[len(server.base):])
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<form" in page.text and "<script" not in page.text


# DC-16: a made-up setup token opens nothing
def test_an_unknown_setup_token_is_not_found(sqlite_server):
    page = sqlite_server.get("/setup?token=" + "A" * 43)
    assert page.status_code == 404


# POR-4, DAO-9: the key-encryption key is a file only its owner can read
def test_the_key_file_is_created_with_mode_0600(sqlite_server):
    mode = stat.S_IMODE(os.stat(sqlite_server.data / "key-encryption-key.json").st_mode)
    assert mode == 0o600, oct(mode)


# DAO-4, DU-4: driven with curl over HTTPS, trusting only the generated certificate
def test_healthz_answers_200_to_curl(server):
    result = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", server.cert,
                             server.base + "/healthz"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "200", result.stderr


# PRX-3, DU-1: the generated certificate verifies for both loopback names
def test_the_generated_certificate_names_127_0_0_1_and_localhost(sqlite_server):
    for name in ["127.0.0.1", "localhost"]:
        context = ssl.create_default_context(cafile=sqlite_server.cert)
        with socket.create_connection(("127.0.0.1", sqlite_server.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=name) as tls:
                assert tls.version() == "TLSv1.3"
