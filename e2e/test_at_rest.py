import subprocess

from conftest import postgres_env


def canaries(fields):
    values = [fields["givenName"], fields["familyName"], fields["email"], fields["address"], fields["medicareNumber"]]
    values.append("".join(ch for ch in fields["phone"] if ch.isdigit())[1:])  # the number without its trunk 0
    return values


def assert_absent(blob, values):
    for value in values:
        assert value.encode() not in blob, "plaintext %r found at rest" % value


# DAO-5, DC-2, POR-2, POR-3: every personal field is sealed before it reaches the database
def test_the_sqlite_files_hold_no_patient_or_owner_plaintext(sqlite_server):
    owner = sqlite_server.client().sign_up()
    patient_id, fields = owner.create_patient()
    assert owner.request("GET", owner.patients_path() + "/" + patient_id).status_code == 200
    blob = b""
    for name in ["clinickeep.sqlite", "clinickeep.sqlite-wal"]:
        path = sqlite_server.data / name
        if path.exists():
            blob += path.read_bytes()
    assert len(blob) > 10000
    assert_absent(blob, canaries(fields) + [owner.email])


def test_a_postgresql_dump_holds_no_patient_or_owner_plaintext(postgres_server):
    owner = postgres_server.client().sign_up()
    patient_id, fields = owner.create_patient()
    assert owner.request("GET", owner.patients_path() + "/" + patient_id).status_code == 200
    pg = postgres_env()
    # As the superuser: FORCE ROW LEVEL SECURITY would hide the rows from anyone else.
    dump = subprocess.run([pg["CLINICKEEP_POSTGRES_BIN"] + "/pg_dump", pg["CLINICKEEP_E2E_POSTGRES_SUPER_URL"]],
                          capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    assert b"COPY public.patients" in dump.stdout
    assert_absent(dump.stdout, canaries(fields) + [owner.email])
