"""Issue 5: a clinic's keys rotate and its data moves to the new version while the clinic keeps
working; a re-encryption killed half-way is finished by running it again; the old version is
then destroyed and everything still reads, before and after a restart.

CLINICKEEP_E2E_ROTATION_PATIENTS sets the clinic's size (default 600; the issue's own check
uses 10000 against a release build)."""
import os
import re
import subprocess
import threading
import time
from urllib.parse import quote

from conftest import BIN

PATIENTS = int(os.environ.get("CLINICKEEP_E2E_ROTATION_PATIENTS", "600"))


def demo_owner(server, patients):
    result = server.command("demo", "--clinics", "1", "--patients", str(patients), "--patients-only")
    assert result.returncode == 0, result.stderr
    owner = server.client()
    owner.email = re.search(r"owner (\S+@\S+)", result.stdout).group(1)
    owner.password = re.search(r"every account's password is (\S+)", result.stdout).group(1)
    owner.log_in()
    owner.clinic_id = owner.request("GET", "/api/v1/me").json()["memberships"][0]["clinicId"]
    return owner


def versions(server, clinic_id):
    """`keys status` as {version: line}."""
    result = server.command("keys", "status", "--clinic", clinic_id)
    assert result.returncode == 0, result.stdout + result.stderr
    return {m.group(1): m.group(0) for m in re.finditer(r"(v\d+): .*", result.stdout)}


class Reader(threading.Thread):
    """A receptionist's day: open patients, search by surname and by phone, without pause."""

    def __init__(self, client, sample):
        super().__init__(daemon=True)
        self.client, self.sample = client, sample
        self.stop = threading.Event()
        self.requests, self.failures = 0, []

    def run(self):
        i = 0
        while not self.stop.is_set():
            patient = self.sample[i % len(self.sample)]
            i += 1
            checks = [
                ("read", self.client.patient_path(patient["id"]), lambda body: body["id"] == patient["id"]),
                ("name", self.client.patients_path() + "?q=" + quote(patient["familyName"]),
                 lambda body: patient["id"] in [p["id"] for p in body["patients"]]),
            ]
            if patient.get("phone"):
                checks.append(("phone", self.client.patients_path() + "?phone=" + quote(patient["phone"]),
                               lambda body: patient["id"] in [p["id"] for p in body["patients"]]))
            for kind, path, found in checks:
                response = self.client.request("GET", path)
                self.requests += 1
                if response.status_code != 200 or not found(response.json()):
                    self.failures.append((kind, response.status_code, response.text[:200]))


# DAO-9, POR-6: rotation without downtime
def test_rotate_and_reencrypt_while_the_clinic_reads_then_retire(server):
    owner = demo_owner(server, PATIENTS)
    listed = owner.request("GET", owner.patients_path(owner.clinic_id) + "?limit=200").json()["patients"]
    assert len(listed) == 200
    reader_client = server.client()
    reader_client.email, reader_client.password = owner.email, owner.password
    reader_client.log_in()
    reader_client.clinic_id = owner.clinic_id
    reader = Reader(reader_client, listed)
    reader.start()
    try:
        rotated = server.command("keys", "rotate", "--clinic", owner.clinic_id)
        assert rotated.returncode == 0 and "v2 is now current" in rotated.stdout, rotated.stdout + rotated.stderr

        # The first run is killed as soon as it reports progress on the patients.
        job = subprocess.Popen([BIN, "keys", "reencrypt", "--clinic", owner.clinic_id, "--data-dir", str(server.data)],
                               env=server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
        seen = []
        for line in job.stdout:
            seen.append(line)
            if re.search(r"patients: \d+ rows checked", line):
                job.kill()
                break
        job.wait(timeout=60)
        assert job.returncode != 0, "the job finished before it could be killed:\n" + "".join(seen)
        half = versions(server, owner.clinic_id)
        assert "; 0 sealed values" not in half["v1"] and "; 0 sealed values" not in half["v2"], half

        rerun = server.command("keys", "reencrypt", "--clinic", owner.clinic_id)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        done = re.search(r"(\d+) rows checked, (\d+) re-sealed in", rerun.stdout)
        assert int(done.group(1)) >= PATIENTS and 0 < int(done.group(2)) < PATIENTS, rerun.stdout
        again = server.command("keys", "reencrypt", "--clinic", owner.clinic_id)
        assert re.search(r"\d+ rows checked, 0 re-sealed", again.stdout), again.stdout
        time.sleep(1)
    finally:
        reader.stop.set()
        reader.join(timeout=60)
    assert reader.failures == [], reader.failures[:5]
    assert reader.requests > 20

    after = versions(server, owner.clinic_id)
    assert "unused, can be retired" in after["v1"] and "current" in after["v2"], after
    retired = server.command("keys", "retire", "--clinic", owner.clinic_id, "--version", "1")
    assert retired.returncode == 0, retired.stdout + retired.stderr
    assert list(versions(server, owner.clinic_id)) == ["v2"]
    assert server.command("keys", "retire", "--clinic", owner.clinic_id, "--version", "2").returncode == 1

    # The running server drops the destroyed version within its refresh interval; a restarted one never had it.
    time.sleep(2.5)
    for restart in (False, True):
        if restart:
            server.stop()
            server.reset_database = False
            server.start()
            owner.log_in()
        for patient in listed[:50]:
            assert owner.request("GET", owner.patient_path(patient["id"], owner.clinic_id)).status_code == 200
        found = owner.request("GET", owner.patients_path(owner.clinic_id) + "?q=" + quote(listed[0]["familyName"])).json()["patients"]
        assert listed[0]["id"] in [p["id"] for p in found]
    verified = server.command("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_key_commands_refuse_bad_input(sqlite_server):
    assert sqlite_server.command("keys", "rotate").returncode == 2
    bad = sqlite_server.command("keys", "rotate", "--clinic", "not-a-uuid")
    assert bad.returncode == 2 and "--clinic" in bad.stderr
    unknown = sqlite_server.command("keys", "status", "--clinic", "6f1c2a4e-0000-4000-8000-000000000000")
    assert unknown.returncode == 2 and "no clinic" in unknown.stderr
    assert sqlite_server.command("keys", "retire", "--clinic", "6f1c2a4e-0000-4000-8000-000000000000",
                                 "--version", "zero").returncode == 2
