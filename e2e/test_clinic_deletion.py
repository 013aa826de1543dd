"""Issue 5: deleting a clinic destroys its keys. A copy of the SQLite file taken before the
deletion, opened with every piece of key material that survives it, yields none of that
clinic's data, while the other clinics in the same copy read as before."""
import shutil

from conftest import Server, personal_values


# DU-9, DAO-11: deletion on request, guarded against accidents, reaching into backups
def test_a_copy_taken_before_clinic_delete_no_longer_opens_that_clinic(sqlite_server):
    server = sqlite_server
    gone, kept = server.client().sign_up(), server.client().sign_up()
    gone_patient, gone_fields = gone.create_patient()
    kept_patient, _ = kept.create_patient()

    # A backup of the database as it is before the deletion (the server stopped so the file is whole).
    server.stop()
    backup = Server("sqlite", env={"CLINICKEEP_KEYSTORE_DIR": str(server.data / "keystore")})
    for name in ("clinickeep.sqlite", "key-encryption-key.json"):
        shutil.copy2(server.data / name, backup.data / name)
    server.start()

    unconfirmed = server.command("clinic", "delete", "--clinic", gone.clinic_id)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr, unconfirmed.stderr
    deleted = server.command("clinic", "delete", "--clinic", gone.clinic_id, "--yes")
    assert deleted.returncode == 0 and "root key is destroyed" in deleted.stdout, deleted.stdout + deleted.stderr
    assert gone.request("GET", gone.patient_path(gone_patient)).status_code == 404
    assert kept.request("GET", kept.patient_path(kept_patient)).status_code == 200
    again = server.command("clinic", "delete", "--clinic", gone.clinic_id, "--yes")
    assert again.returncode == 0 and "already deleted" in again.stdout
    # Key commands pass over a deleted clinic, and name it when asked for it.
    assert server.command("keys", "rotate", "--all").returncode == 0
    assert server.command("keys", "reencrypt", "--all").returncode == 0
    named = server.command("keys", "status", "--clinic", gone.clinic_id)
    assert named.returncode == 2 and "was deleted" in named.stderr, named.stderr

    # The copy, served with the key file and the key store that survive the deletion.
    backup.start()
    try:
        for client, patient, status in ((gone, gone_patient, 410), (kept, kept_patient, 200)):
            restored = backup.client()
            restored.email, restored.password = client.email, client.password
            restored.log_in()
            restored.clinic_id = client.clinic_id
            answer = restored.request("GET", restored.patient_path(patient))
            assert answer.status_code == status, answer.text
            if status == 410:
                assert answer.json()["error"]["code"] == "clinic_deleted"
                for value in personal_values(gone_fields):
                    assert value not in answer.text
    finally:
        backup.stop()
        backup.cleanup(keep=False)
    verified = server.command("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_clinic_delete_refuses_bad_input(sqlite_server):
    assert sqlite_server.command("clinic", "delete", "--yes").returncode == 2
    unknown = sqlite_server.command("clinic", "delete", "--clinic", "6f1c2a4e-0000-4000-8000-000000000000", "--yes")
    assert unknown.returncode == 2 and "no clinic" in unknown.stderr
