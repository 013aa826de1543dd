"""No personal value reaches the database in plaintext."""
import subprocess

from conftest import personal_values, pg_tool, postgres_env


def assert_absent(blob, values):
    for value in values:
        assert value.encode("utf-8") not in blob, "plaintext %r found at rest" % value


def flow(server):
    """An owner and a patient with canary values; the patient really exists before anything is scanned."""
    owner = server.client().sign_up()
    patient_id, fields = owner.create_patient()
    owner.request("PATCH", owner.patient_path(patient_id), json={"address": fields["address"] + " North"})
    read = owner.request("GET", owner.patient_path(patient_id))
    assert read.status_code == 200 and read.json()["familyName"] == fields["familyName"], read.text
    canaries = personal_values(fields) + [fields["address"] + " North", owner.email, owner.name]
    return owner, patient_id, canaries


# DAO-5, DC-2, POR-2, POR-3, DU-1: every personal field is sealed before it reaches SQLite
def test_the_sqlite_files_hold_no_patient_or_owner_plaintext(sqlite_server):
    _, patient_id, canaries = flow(sqlite_server)
    blob = b""
    for name in ["clinickeep.sqlite", "clinickeep.sqlite-wal", "clinickeep.sqlite-journal"]:
        path = sqlite_server.data / name
        if path.exists():
            blob += path.read_bytes()
    # Not vacuous: these are the files holding the patient's row.
    assert patient_id.upper().encode() in blob or patient_id.encode() in blob
    assert_absent(blob, canaries)


# DAO-5, DC-2, POR-2, POR-3, DU-1: and PostgreSQL (a superuser's dump, which row-level security cannot hide)
def test_a_postgresql_dump_holds_no_patient_or_owner_plaintext(postgres_server):
    _, patient_id, canaries = flow(postgres_server)
    dump = subprocess.run([pg_tool("pg_dump"), "--no-owner", "-d", postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"]],
                          capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    assert b"COPY public.patients" in dump.stdout and patient_id.encode() in dump.stdout
    assert_absent(dump.stdout, canaries)
