"""Issue 5, files: a 200 MB upload streams in and out of the real server with its memory staying
flat, the stored bytes hold no plaintext, and an upload over the limit is cut off."""
import hashlib
import os
import threading
import time

import requests

from conftest import canary, report_measurement

MIB = 1024 * 1024
SIZE_MIB = int(os.environ.get("CLINICKEEP_E2E_FILE_MIB", "200"))
# What "flat" allows: the server's resident memory may grow by this much while a file of
# SIZE_MIB passes through it (buffers, allocator slack), far below the file's size.
FLAT_MIB = 64


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class PeakRSS:
    """Samples a process's resident memory every 20 ms while in use."""

    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def pdf_like(size_mib, marker, digest):
    """size_mib MiB that sniff as a PDF, each MiB carrying the marker; the SHA-256 goes into digest."""
    block = os.urandom(MIB - 64)
    for index in range(size_mib):
        head = b"%PDF-1.7\n" if index == 0 else b""
        piece = head + (b" %s-%06d " % (marker.encode(), index)).ljust(64 - len(head), b".") + block
        digest.update(piece)
        yield piece


def upload(client, path, body, timeout=600):
    headers = {"Cookie": "__Host-clinickeep-session=%s" % client.cookie, "X-CSRF-Token": client.csrf,
               "Content-Type": "application/octet-stream", "Connection": "close"}
    return client.session.post(client.server.base + path, data=body, headers=headers, verify=client.server.cert, timeout=timeout)


def stored_contains(path, needle):
    """Whether a stored file contains needle, read in 8 MiB pieces with overlap."""
    with open(path, "rb") as stored:
        tail = b""
        while True:
            piece = stored.read(8 * MIB)
            if not piece:
                return False
            if needle in tail + piece:
                return True
            tail = piece[-len(needle):]


# DAO-6: files encrypted at rest and streamed, never held whole in memory
def test_a_200_mb_file_streams_in_and_out_with_flat_memory_and_no_plaintext_stored(server):
    owner = server.client()
    owner.sign_up()
    patient, _ = owner.create_patient()
    files_path = "/api/v1/clinics/%s/patients/%s/files" % (owner.clinic_id, patient)

    # Warm up: the first upload and download settle the server's buffers and caches.
    warm = upload(owner, files_path + "?name=warm.txt", b"warm-up note\n" * 1000)
    assert warm.status_code == 201, warm.text
    assert owner.request("GET", "/api/v1/clinics/%s/files/%s/content" % (owner.clinic_id, warm.json()["id"])).status_code == 200
    pid = server.process.pid
    baseline = rss_kib(pid)

    marker = canary("Blk")
    sent = hashlib.sha256()
    started = time.monotonic()
    with PeakRSS(pid) as during_upload:
        answer = upload(owner, files_path + "?name=scan.pdf", pdf_like(SIZE_MIB, marker, sent))
    upload_seconds = time.monotonic() - started
    assert answer.status_code == 201, answer.text
    stored_file = answer.json()
    version = stored_file["versions"][0]
    assert version["size"] == SIZE_MIB * MIB and version["sha256"] == sent.hexdigest()
    assert version["mediaType"] == "application/pdf"

    received = hashlib.sha256()
    count = 0
    started = time.monotonic()
    with PeakRSS(pid) as during_download:
        content = owner.session.get(
            server.base + "/api/v1/clinics/%s/files/%s/content" % (owner.clinic_id, stored_file["id"]),
            headers={"Cookie": "__Host-clinickeep-session=%s" % owner.cookie, "Connection": "close"},
            verify=server.cert, timeout=600, stream=True)
        assert content.status_code == 200
        for piece in content.iter_content(MIB):
            received.update(piece)
            count += len(piece)
    download_seconds = time.monotonic() - started
    assert count == SIZE_MIB * MIB and received.hexdigest() == sent.hexdigest()

    stored = list((server.data / "files" / owner.clinic_id.lower()).iterdir())
    big = max(stored, key=lambda p: p.stat().st_size)
    assert big.stat().st_size > SIZE_MIB * MIB
    # The whole header: four bytes alone turn up by chance in 200 MiB of ciphertext about one run in twenty.
    assert not stored_contains(big, marker.encode()) and not stored_contains(big, b"%PDF-1.7\n")

    grown_upload = (during_upload.peak - baseline) / 1024
    grown_download = (during_download.peak - baseline) / 1024
    report_measurement("files (%s): %d MiB up in %.1f s, down in %.1f s; server RSS baseline %.0f MiB, peak +%.1f MiB up, +%.1f MiB down"
                       % (server.backend, SIZE_MIB, upload_seconds, download_seconds, baseline / 1024, grown_upload, grown_download))
    assert grown_upload < FLAT_MIB, "RSS grew %.1f MiB during the upload" % grown_upload
    assert grown_download < FLAT_MIB, "RSS grew %.1f MiB during the download" % grown_download


def test_an_upload_over_the_limit_is_cut_off_and_leaves_nothing(make_server):
    server = make_server("sqlite", env={"CLINICKEEP_MAX_UPLOAD_MB": "1"})
    owner = server.client()
    owner.sign_up()
    patient, _ = owner.create_patient()
    files_path = "/api/v1/clinics/%s/patients/%s/files?name=big.pdf" % (owner.clinic_id, patient)
    declared = upload(owner, files_path, b"%PDF-1.7\n" + b"x" * (2 * MIB))
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "file_too_large"
    # Sent without a length (chunked): refused once it passes the limit.
    try:
        streamed = upload(owner, files_path, pdf_like(3, "over", hashlib.sha256()), timeout=60)
        assert streamed.status_code == 413, streamed.text
    except requests.ConnectionError:
        pass  # the server may close the connection before the client has finished sending
    assert owner.request("GET", "/healthz").status_code == 200
    folder = server.data / "files" / owner.clinic_id.lower()
    assert not folder.exists() or not any(folder.iterdir())
