import os
import re
import stat
import subprocess

import requests


def test_first_run_prints_the_url_and_a_one_time_setup_link(sqlite_server):
    out = sqlite_server.stdout_path.read_text()
    assert "ClinicKeep is serving at %s" % sqlite_server.base in out
    link = re.search(r"(https://127\.0\.0\.1:\d+/setup\?token=[A-Za-z0-9_-]{43})", out)
    assert link, out
    page = requests.get(link.group(1), verify=sqlite_server.cert, timeout=10)
    assert page.status_code == 200
    assert "<form" in page.text and "<script" not in page.text


# POR-4, DAO-9: the key-encryption key lives in a file only its owner can read
def test_the_key_file_is_created_with_mode_0600(sqlite_server):
    mode = stat.S_IMODE(os.stat(sqlite_server.data / "key-encryption-key.json").st_mode)
    assert mode == 0o600


# DAO-4, DU-4: driven with curl over HTTPS against the generated certificate
def test_healthz_answers_200_to_curl(server):
    result = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", server.cert, server.base + "/healthz"],
                            capture_output=True, text=True, timeout=30)
    assert result.stdout == "200", result.stderr
