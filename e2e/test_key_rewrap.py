"""Issue 5: `keys rewrap` replaces the key-encryption key while the server runs; everything is
wrapped again, the old key leaves the key file, and a restarted server reads every clinic."""
import json


# DAO-9, POR-4: a new key-encryption key, the old one retired
def test_rewrap_while_serving_then_restart(server):
    owner = server.client().sign_up()
    patient, fields = owner.create_patient()
    key_file = server.data / "key-encryption-key.json"
    before = json.loads(key_file.read_text())

    result = server.command("keys", "rewrap")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rewrap done" in result.stdout
    after = json.loads(key_file.read_text())
    assert after["format"] == 2 and len(after["keys"]) == 1
    old_id = before.get("keyId") or before["current"]
    assert after["current"] != old_id and old_id not in key_file.read_text()
    for root in (server.data / "keystore").glob("*.json"):
        assert json.loads(root.read_text())["kekId"] == after["current"], root

    # The running server goes on, and a new clinic made now is wrapped by the new key.
    assert owner.request("GET", owner.patient_path(patient)).json()["familyName"] == fields["familyName"]
    newcomer = server.client().sign_up()
    new_patient, _ = newcomer.create_patient()

    server.stop()
    server.reset_database = False
    server.start()
    for client, pid in ((owner, patient), (newcomer, new_patient)):
        client.log_in()
        assert client.request("GET", client.patient_path(pid)).status_code == 200
    again = server.command("keys", "rewrap")
    assert again.returncode == 0, again.stdout + again.stderr
    verified = server.command("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
