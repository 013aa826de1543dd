import sqlite3

import pytest

from conftest import postgres_env, psql


def activity(server):
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient()
    for _ in range(3):
        assert owner.request("GET", owner.patients_path() + "/" + patient_id).status_code == 200
    return owner


def tamper(server, clinic_id, kind):
    """Changes the clinic's chain directly in the database, as someone with database access would.
    Sequence 1 and 2 are the clinic's creation; 3 the patient's; 4 to 6 the reads."""
    statements = {
        "edit": ["UPDATE audit_events SET action = 'patient.list' WHERE {chain} AND sequence = 4"],
        "delete": ["DELETE FROM audit_events WHERE {chain} AND sequence = 4"],
        "swap": ["UPDATE audit_events SET sequence = -1 WHERE {chain} AND sequence = 4",
                 "UPDATE audit_events SET sequence = 4 WHERE {chain} AND sequence = 5",
                 "UPDATE audit_events SET sequence = 5 WHERE {chain} AND sequence = -1"],
    }[kind]
    if server.backend == "sqlite":
        db = sqlite3.connect(str(server.data / "clinickeep.sqlite"), timeout=30)
        for statement in statements:
            db.execute(statement.format(chain="upper(chain_id) = upper(?)"), (clinic_id,))
        db.commit()
        db.close()
    else:
        super_url = postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"]
        psql(super_url, "; ".join(s.format(chain="chain_id = '%s'" % clinic_id) for s in statements))


# PRX-8, POR-8: the ledger verifies when untouched
def test_audit_verify_exits_0_on_an_untouched_ledger(server):
    owner = activity(server)
    result = server.command("audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "audit ledger verified" in result.stdout
    assert owner.clinic_id in result.stdout


# PRX-8: tamper-evident; the first bad entry is named
@pytest.mark.parametrize("kind", ["edit", "delete", "swap"])
def test_audit_verify_exits_1_naming_the_tampered_entry(server, kind):
    owner = activity(server)
    tamper(server, owner.clinic_id, kind)
    result = server.command("audit", "verify", "--clinic", owner.clinic_id)
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stdout + result.stderr
    assert "chain %s entry 4" % owner.clinic_id in message, message
