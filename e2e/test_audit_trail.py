"""Who accessed what, and when: the ledger as owners read it through the API."""


# POR-8, DC-19, PRX-8: every read of a patient is recorded with its actor, in order
def test_the_audit_trail_lists_who_created_and_read_a_patient(server):
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient()
    for _ in range(2):
        assert owner.request("GET", owner.patient_path(patient_id)).status_code == 200
    owner.request("PATCH", owner.patient_path(patient_id), json={"address": "2 Other St"})
    response = owner.request("GET", "/api/v1/clinics/%s/audit?patientId=%s" % (owner.clinic_id, patient_id))
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["action"] for e in events][:4] == ["patient.create", "patient.read", "patient.read", "patient.update"], events
    assert all(e["resourceId"] == patient_id and e["outcome"] == "success" and e["actorId"] == owner.user_id for e in events)
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
