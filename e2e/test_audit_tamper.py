"""`clinickeep audit verify` proves the ledger untouched, or names the first bad entry."""
import sqlite3

import pytest

from conftest import postgres_env, psql


def activity(server):
    """The clinic's chain: 1 clinic.create, 2 membership.create, 3 patient.create (A),
    4 patient.create (B), 5 patient.read (A), 6 patient.read (B), 7 patient.read (A)."""
    owner = server.client().sign_up()
    first, _ = owner.create_patient()
    second, _ = owner.create_patient()
    for patient_id in [first, second, first]:
        assert owner.request("GET", owner.patient_path(patient_id)).status_code == 200
    return owner


class Ledger:
    """Direct access to one clinic's chain in the database, as someone with database access has:
    SQLite through its file, PostgreSQL as the superuser (row-level security does not stop it)."""

    def __init__(self, server, clinic_id):
        self.server = server
        if server.backend == "sqlite":
            self.db = sqlite3.connect(str(server.data / "clinickeep.sqlite"), timeout=30)
            self.chain = clinic_id.upper()  # stored as upper-case UUID text
        else:
            self.url = postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"]
            self.chain = clinic_id

    def row(self, sequence):
        sql = "SELECT action, resource_id FROM audit_events WHERE chain_id = '%s' AND sequence = %d" % (self.chain, sequence)
        if self.server.backend == "sqlite":
            found = self.db.execute(sql).fetchone()
        else:
            found = psql(self.url, sql).split("|") if psql(self.url, sql) else None
        assert found, "no entry %d in the clinic's chain" % sequence
        return found

    def change(self, *statements):
        statements = [s.format(chain="chain_id = '%s'" % self.chain) for s in statements]
        if self.server.backend == "sqlite":
            for statement in statements:
                assert self.db.execute(statement).rowcount == 1, statement
            self.db.commit()
            self.db.close()
        else:
            psql(self.url, "BEGIN; " + "; ".join(statements) + "; COMMIT;")


def edit(ledger):
    """An edited entry: the creation of patient B becomes a read."""
    ledger.change("UPDATE audit_events SET action = 'patient.read' WHERE {chain} AND sequence = 4")
    return 4


def delete(ledger):
    """A removed entry."""
    ledger.change("DELETE FROM audit_events WHERE {chain} AND sequence = 4")
    return 4


def swap(ledger):
    """Two entries' action and resource swapped: 4 patient.create (B) and 5 patient.read (A)."""
    (action4, resource4), (action5, resource5) = ledger.row(4), ledger.row(5)
    assert (action4, resource4) != (action5, resource5)
    ledger.change("UPDATE audit_events SET action = '%s', resource_id = '%s' WHERE {chain} AND sequence = 4" % (action5, resource5),
                  "UPDATE audit_events SET action = '%s', resource_id = '%s' WHERE {chain} AND sequence = 5" % (action4, resource4))
    return 4


def reorder(ledger):
    """Two whole entries exchanged in the chain's order."""
    ledger.change("UPDATE audit_events SET sequence = -1 WHERE {chain} AND sequence = 4",
                  "UPDATE audit_events SET sequence = 4 WHERE {chain} AND sequence = 5",
                  "UPDATE audit_events SET sequence = 5 WHERE {chain} AND sequence = -1")
    return 4


def truncate(ledger):
    """The newest entry removed: only the recorded head can tell."""
    ledger.change("DELETE FROM audit_events WHERE {chain} AND sequence = 7")
    return 7


# PRX-8, POR-8: the ledger verifies when untouched
def test_audit_verify_exits_0_on_an_untouched_ledger(server):
    owner = activity(server)
    server.stop()
    result = server.command("audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert owner.clinic_id in result.stdout, result.stdout


# PRX-8, POR-8: tamper-evident; verify exits 1 naming the clinic's chain and the first bad entry
@pytest.mark.parametrize("tampering", [edit, delete, swap, reorder, truncate], ids=lambda f: f.__name__)
def test_audit_verify_exits_1_naming_the_tampered_entry(server, tampering):
    owner = activity(server)
    server.stop()
    assert server.command("audit", "verify").returncode == 0
    sequence = tampering(Ledger(server, owner.clinic_id))
    for args in [("audit", "verify"), ("audit", "verify", "--clinic", owner.clinic_id)]:
        result = server.command(*args)
        message = result.stdout + result.stderr
        assert result.returncode == 1, message
        assert owner.clinic_id in message and "entry %d" % sequence in message, message
