"""Issue 22, a clean stop: on SIGTERM the server stops accepting, answers the requests already
under way (an upload still streaming in among them), then closes its database and exits 0. No
request is answered 5xx on the way down, and what was answered is there after a restart."""
import signal
import threading
import time

import requests

from conftest import report_measurement

PIECE = 256 * 1024


def test_sigterm_finishes_requests_under_way_answers_no_5xx_and_exits_0(server):
    owner = server.client()
    owner.sign_up()
    patient, _ = owner.create_patient()
    read_path = owner.patient_path(patient)
    files_path = "/api/v1/clinics/%s/patients/%s/files?name=scan.pdf" % (owner.clinic_id, patient)

    # An upload that is still sending its body when the signal arrives: 24 pieces, 50 ms apart.
    streaming = threading.Event()

    def slow_body():
        yield b"%PDF-1.7\n" + b"." * (PIECE - 9)
        streaming.set()
        for _ in range(23):
            time.sleep(0.05)
            yield b"." * PIECE

    upload = {}

    def send_upload():
        with requests.Session() as session:
            session.trust_env = False
            upload["response"] = session.post(
                server.base + files_path, data=slow_body(), verify=server.cert, timeout=60,
                headers={"Cookie": "__Host-clinickeep-session=%s" % owner.cookie, "X-CSRF-Token": owner.csrf,
                         "Content-Type": "application/octet-stream"})

    # Readers on keep-alive connections, each until its connection is refused or closed.
    answers, stopped = [], threading.Event()

    def read_until_refused():
        with requests.Session() as session:
            session.trust_env = False
            while not stopped.is_set():
                try:
                    response = session.get(server.base + read_path, verify=server.cert, timeout=30,
                                           headers={"Cookie": "__Host-clinickeep-session=%s" % owner.cookie})
                except requests.ConnectionError:
                    # Refused or closed once the server stops accepting: expected, and the end.
                    if signalled.is_set():
                        return
                    raise
                answers.append(response.status_code)

    signalled = threading.Event()
    uploader = threading.Thread(target=send_upload)
    readers = [threading.Thread(target=read_until_refused, daemon=True) for _ in range(4)]
    uploader.start()
    for reader in readers:
        reader.start()
    assert streaming.wait(10), "the upload never started"
    time.sleep(0.2)
    before = len(answers)
    signalled.set()
    sent_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)

    status = server.process.wait(timeout=40)
    stop_seconds = time.monotonic() - sent_at
    stopped.set()
    uploader.join(timeout=60)

    assert status == 0, server.output()[-3000:]
    assert "Stopping." in server.stdout()
    assert before > 0 and all(code == 200 for code in answers), sorted(set(answers))
    answer = upload.get("response")
    assert answer is not None and answer.status_code == 201, answer.text if answer is not None else "no answer"
    report_measurement("clean stop (%s): %d reads answered 200 around SIGTERM, a %d KiB upload under way answered 201, exit 0 after %.1f s"
                       % (server.backend, len(answers), 24 * PIECE // 1024, stop_seconds))

    # What was answered is there: the upload and its ledger entry, after a restart.
    server.reset_database = False
    server.start()
    again = owner.request("GET", "/api/v1/clinics/%s/files/%s" % (owner.clinic_id, answer.json()["id"]))
    assert again.status_code == 200 and again.json()["versions"][0]["size"] == 24 * PIECE
    verify = server.command("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
