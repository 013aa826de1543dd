from conftest import postgres_env, psql


# DAO-16, PRX-13, DU-2, DU-8: another clinic's objects answer 404, never 403
def test_another_clinic_gets_404_for_read_change_and_delete(server):
    first = server.client().sign_up()
    second = server.client().sign_up()
    patient_id, fields = first.create_patient()
    for clinic in [second.clinic_id, first.clinic_id]:
        path = second.patients_path(clinic) + "/" + patient_id
        assert second.request("GET", path).status_code == 404
        assert second.request("PATCH", path, json={"givenName": "Mallory"}).status_code == 404
        assert second.request("DELETE", path).status_code == 404
    intact = first.request("GET", first.patients_path() + "/" + patient_id)
    assert intact.json()["givenName"] == fields["givenName"]


def test_another_clinics_searches_never_return_the_patient(server):
    first = server.client().sign_up()
    second = server.client().sign_up()
    _, fields = first.create_patient()
    phone = fields["phone"].replace(" ", "")
    for query in ["", "?q=" + fields["familyName"].lower(), "?phone=" + phone, "?email=" + fields["email"]]:
        response = second.request("GET", second.patients_path() + query)
        assert response.status_code == 200
        assert response.json()["patients"] == []
        assert fields["familyName"] not in response.text


# POR-7: with the server's own role and no clinic set, PostgreSQL shows no tenant rows
def test_the_server_role_sees_no_patients_without_the_clinic_setting(postgres_server):
    owner = postgres_server.client().sign_up()
    owner.create_patient()
    pg = postgres_env()
    assert psql(pg["CLINICKEEP_E2E_POSTGRES_APP_URL"], "SELECT count(*) FROM patients") == "0"
    assert int(psql(pg["CLINICKEEP_E2E_POSTGRES_SUPER_URL"], "SELECT count(*) FROM patients")) >= 1


# DAO-12: the server's role may only insert and read the ledger
def test_the_server_role_cannot_change_the_ledger(postgres_server):
    owner = postgres_server.client().sign_up()
    owner.create_patient()
    import subprocess
    pg = postgres_env()
    for statement in ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"]:
        result = subprocess.run([pg["CLINICKEEP_POSTGRES_BIN"] + "/psql", pg["CLINICKEEP_E2E_POSTGRES_APP_URL"], "-Atqc", statement],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert "permission denied" in result.stderr
