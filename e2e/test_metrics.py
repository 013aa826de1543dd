"""Issue 22, metrics: with CLINICKEEP_METRICS_PORT set, GET /metrics on that port (plain HTTP,
loopback only by default) answers Prometheus text with requests by route template and status,
their latency histograms, database units, ledger appends and key-cache hits; no label holds an
id or a personal value. The HTTPS port does not serve it."""
import re

import requests

from conftest import free_port, personal_values

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def listening_addresses(port):
    """The local addresses a socket listens on for this TCP port, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if int(hex_port, 16) == port and state == "0A":
                    found.append(address)
    return found


def sample(text, name, **labels):
    """The value of the sample `name{labels}` (labels in any order), or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        present = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if all(present.get(key) == wanted for key, wanted in labels.items()):
            return float(value)
    return None


def test_metrics_count_requests_by_route_on_loopback_and_name_nobody(make_server):
    metrics_port = free_port()
    server = make_server("sqlite", env={"CLINICKEEP_METRICS_PORT": str(metrics_port)})
    owner = server.client()
    owner.sign_up()
    patient, fields = owner.create_patient()
    for _ in range(3):
        assert owner.request("GET", owner.patient_path(patient)).status_code == 200
    # Another clinic's patient: 404, counted under the same template.
    stranger = server.client()
    stranger.sign_up()
    assert stranger.request("GET", stranger.patient_path(patient)).status_code == 404

    assert listening_addresses(metrics_port) == ["0100007F"], "the metrics port must listen on 127.0.0.1 alone"
    scrape = requests.get("http://127.0.0.1:%d/metrics" % metrics_port, timeout=10)
    assert scrape.status_code == 200 and scrape.headers["Content-Type"].startswith("text/plain")
    text = scrape.text

    read_route = "/api/v1/clinics/:clinicId/patients/:patientId"
    assert sample(text, "http_requests_total", method="GET", path=read_route, status="200") == 3
    assert sample(text, "http_requests_total", method="GET", path=read_route, status="404") == 1
    assert sample(text, "http_request_duration_seconds_count", method="GET", path=read_route, status="200") == 3
    assert sample(text, "http_request_duration_seconds_bucket", method="GET", path=read_route, status="200", le="+Inf") == 3
    assert sample(text, "clinickeep_ledger_appends_total") >= 4
    assert sample(text, "clinickeep_key_cache_total", result="hit") >= 1
    assert sample(text, "clinickeep_database_wait_seconds_count", kind="write") >= 1
    assert sample(text, "clinickeep_database_units_in_flight", kind="write") is not None

    # Templates and numbers only: no id, no personal value, no e-mail address.
    assert not UUID.search(text), UUID.search(text).group(0)
    for value in personal_values(fields) + [owner.email, owner.name, owner.clinic_id]:
        assert value not in text, value
    assert "@" not in text

    # Not on the HTTPS port, and nothing but /metrics on its own.
    assert owner.request("GET", "/metrics").status_code == 404
    assert requests.get("http://127.0.0.1:%d/" % metrics_port, timeout=10).status_code == 404
