"""`clinickeep audit verify` proves the ledger untouched, or names the first bad entry."""
import json
import os
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BIN, postgres_env, psql, run_psql

APPEND_ONLY_TRIGGERS = ["audit_events_no_update", "audit_events_no_delete", "audit_checkpoints_no_update",
                        "audit_checkpoints_no_delete", "audit_signing_keys_no_update", "audit_signing_keys_no_delete"]


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
    """Direct access to one clinic's chain in the database, as someone who owns it has: SQLite
    through its file, PostgreSQL as the superuser (row-level security does not stop it). Both
    first switch off the append-only triggers, as such a person can."""

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

    def change(self, *statements, one_row_each=True):
        statements = [s.format(chain="chain_id = '%s'" % self.chain) for s in statements]
        if self.server.backend == "sqlite":
            for trigger in APPEND_ONLY_TRIGGERS:
                self.db.execute("DROP TRIGGER IF EXISTS %s" % trigger)
            for statement in statements:
                changed = self.db.execute(statement).rowcount
                assert changed == 1 if one_row_each else changed > 0, statement
            self.db.commit()
            self.db.close()
        else:
            psql(self.url, "BEGIN; SET LOCAL session_replication_role = replica; " + "; ".join(statements) + "; COMMIT;")


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


# PRX-8, POR-8: checkpoints exported and kept elsewhere catch a ledger cut back after the export,
# even when the head and the stored checkpoints were made to agree with the shorter chain
def test_a_ledger_cut_back_after_an_export_is_caught_against_the_export(server, tmp_path):
    owner = activity(server)
    server.stop()
    export = tmp_path / "checkpoints.json"
    result = server.command("audit", "checkpoints", "--export", str(export))
    assert result.returncode == 0, result.stdout + result.stderr
    exported = json.loads(export.read_text())
    assert {"chain": owner.clinic_id, "sequence": 7} in [{"chain": c["chain"].lower(), "sequence": c["sequence"]} for c in exported["checkpoints"]]
    assert exported["keys"] and all(len(key["publicKey"]) == 44 for key in exported["keys"])
    Ledger(server, owner.clinic_id).change(
        "DELETE FROM audit_events WHERE {chain} AND sequence > 5",
        "DELETE FROM audit_checkpoints WHERE {chain}",
        "UPDATE audit_heads SET sequence = 5, head_hash = (SELECT hash FROM audit_events WHERE {chain} AND sequence = 5) WHERE {chain}",
        one_row_each=False)
    alone = server.command("audit", "verify")
    assert alone.returncode == 0, alone.stdout + alone.stderr
    against = server.command("audit", "verify", "--checkpoints", str(export))
    message = against.stdout + against.stderr
    assert against.returncode == 1, message
    assert owner.clinic_id in message and "entry 6" in message and "exported checkpoint" in message, message


def test_audit_verify_refuses_a_file_that_is_not_a_checkpoint_export(server, tmp_path):
    server.stop()
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{\"hello\": 1}")
    result = server.command("audit", "verify", "--checkpoints", str(bogus))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not a checkpoint export" in result.stdout + result.stderr


# PRX-8: append-only in the database itself: the server's role lacks the privilege, and the
# triggers refuse even the tables' owner
def test_the_ledger_refuses_update_and_delete_from_every_role(server):
    owner = activity(server)
    server.stop()
    statements = ["UPDATE audit_events SET action = 'patient.list' WHERE chain_id = '%s' AND sequence = 4",
                  "DELETE FROM audit_events WHERE chain_id = '%s' AND sequence = 7",
                  "DELETE FROM audit_checkpoints WHERE chain_id = '%s'"]
    if server.backend == "sqlite":
        db = sqlite3.connect(str(server.data / "clinickeep.sqlite"), timeout=30)
        for statement in statements[:2]:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement % owner.clinic_id.upper())
        db.close()
    else:
        pg = postgres_env()
        realm = "SELECT set_config('clinickeep.realm', '%s', false); " % owner.clinic_id
        for statement in statements:
            as_server = run_psql(pg["CLINICKEEP_E2E_POSTGRES_APP_URL"], realm + statement % owner.clinic_id)
            assert as_server.returncode != 0 and "permission denied" in as_server.stderr, as_server.stderr
        for statement in statements[:2]:
            as_owner = run_psql(pg["CLINICKEEP_E2E_POSTGRES_OWNER_URL"], realm + statement % owner.clinic_id)
            assert as_owner.returncode != 0 and "clinickeep:" in as_owner.stderr, as_owner.stderr
    assert server.command("audit", "verify").returncode == 0


# PRX-8: retention is explicit, at least 12 months; a purge with nothing past it removes nothing
def test_audit_purge_keeps_what_is_inside_retention_and_the_ledger_verifies(server):
    owner = activity(server)
    server.stop()
    planned = server.command("audit", "purge", "--dry-run")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "retention 7y" in planned.stdout and "0 entries would be removed" in planned.stdout, planned.stdout
    purged = server.command("audit", "purge", "--clinic", owner.clinic_id)
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert "nothing past retention" in purged.stdout, purged.stdout
    assert server.command("audit", "verify").returncode == 0


def test_audit_purge_refuses_a_retention_under_twelve_months(server):
    server.stop()
    env = dict(server.env, CLINICKEEP_AUDIT_RETENTION="300d")
    result = subprocess.run([BIN, "audit", "purge", "--data-dir", str(server.data)], env=env, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CLINICKEEP_AUDIT_RETENTION" in result.stderr and "twelve months" in result.stderr, result.stderr


def test_audit_purge_on_postgresql_needs_the_owners_role(make_server):
    # PostgreSQL only: SQLite has one user, and its triggers are the whole guard there.
    server = make_server("postgres")
    server.stop()
    env = {key: value for key, value in server.env.items() if key != "CLINICKEEP_MIGRATION_DATABASE_URL"}
    result = subprocess.run([BIN, "audit", "purge", "--data-dir", str(server.data)], env=env, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CLINICKEEP_MIGRATION_DATABASE_URL" in result.stderr, result.stderr


def checkpointed_sequences(server, clinic_id):
    if server.backend == "sqlite":
        db = sqlite3.connect(str(server.data / "clinickeep.sqlite"), timeout=30)
        rows = db.execute("SELECT sequence FROM audit_checkpoints WHERE chain_id = ? ORDER BY sequence", (clinic_id.upper(),)).fetchall()
        db.close()
        return [row[0] for row in rows]
    out = psql(postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"],
               "SELECT sequence FROM audit_checkpoints WHERE chain_id = '%s' ORDER BY sequence" % clinic_id)
    return [int(line) for line in out.split()]


# PRX-8: checkpoints every N events while serving, and a quiet chain's tail within the interval
def test_the_running_server_signs_checkpoints_by_count_and_by_time(make_server, backend):
    server = make_server(backend, env={"CLINICKEEP_AUDIT_CHECKPOINT_EVENTS": "3", "CLINICKEEP_AUDIT_CHECKPOINT_INTERVAL": "2s"})
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient()  # entries 1-3: a checkpoint at 3 by count
    owner.request("GET", owner.patient_path(patient_id))  # entry 4: left for the sweep
    deadline = time.time() + 20
    while 4 not in checkpointed_sequences(server, owner.clinic_id) and time.time() < deadline:
        time.sleep(0.5)
    assert checkpointed_sequences(server, owner.clinic_id)[:2] == [3, 4]
    server.stop()
    assert server.command("audit", "verify").returncode == 0


# Issue 6: 32 clients hammering one clinic leave one unbroken chain, on both databases
def test_32_concurrent_clients_for_30_seconds_leave_one_unbroken_chain(server):
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient()
    seconds = float(os.environ.get("CLINICKEEP_E2E_HAMMER_SECONDS", "30"))

    def hammer(_):
        client = server.client()
        client.cookie, client.csrf, client.clinic_id = owner.cookie, owner.csrf, owner.clinic_id
        statuses = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            statuses.append(client.request("GET", client.patient_path(patient_id)).status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = [status for batch in pool.map(hammer, range(32)) for status in batch]
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    server.stop()
    result = server.command("audit", "verify", "--clinic", owner.clinic_id)
    assert result.returncode == 0, result.stdout + result.stderr
    # clinic, membership and patient creation, then one read event per answer
    assert "%d entries verified" % (3 + len(statuses)) in result.stdout, (len(statuses), result.stdout)
