"""Who accessed what, and when: the ledger as owners read it through the API, and the questions
of a breach assessment."""
import csv
import io
import json
import re

from conftest import error_code


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


def test_the_audit_trail_downloads_as_csv(server):
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient()
    response = owner.request("GET", "/api/v1/clinics/%s/audit?patientId=%s&format=csv" % (owner.clinic_id, patient_id))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["sequence", "occurredAt", "actorId", "action"]
    assert [row[3] for row in rows[1:]] == ["patient.create"] and rows[1][5] == patient_id


def test_an_unknown_format_is_refused_with_a_clear_error(server):
    owner = server.client().sign_up()
    response = owner.request("GET", "/api/v1/clinics/%s/audit?format=xml" % owner.clinic_id)
    assert response.status_code == 400 and error_code(response) == "invalid_field", response.text


# DC-8, DC-19: failed sign-ins of the clinic's members, by address; other clinics' members stay out
def test_failed_sign_ins_of_members_are_counted_by_address(server):
    owner = server.client().sign_up()
    receptionist = owner.invite(["receptionist"]).log_in()
    stranger = server.client().sign_up()
    for person in [owner, owner, receptionist, stranger]:
        assert server.client().login_response(email=person.email, password="not the password at all").status_code == 401
    response = owner.request("GET", "/api/v1/clinics/%s/audit/sign-in-failures" % owner.clinic_id)
    assert response.status_code == 200, response.text
    addresses = response.json()["addresses"]
    # Review round 2, A10: the ledger keeps the address's network and a keyed hash, never the address.
    assert [(a["address"].split(" h=")[0], a["failures"], a["accounts"]) for a in addresses] == [("127.0.0.0/24", 3, 2)], addresses
    assert re.fullmatch(r"127\.0\.0\.0/24 h=[0-9a-f]{16}", addresses[0]["address"]), addresses
    as_csv = owner.request("GET", "/api/v1/clinics/%s/audit/sign-in-failures?format=csv" % owner.clinic_id)
    assert list(csv.reader(io.StringIO(as_csv.text)))[1][:3] == [addresses[0]["address"], "3", "2"]
    # Asking is itself recorded; a receptionist may not ask.
    assert receptionist.request("GET", "/api/v1/clinics/%s/audit/sign-in-failures" % owner.clinic_id).status_code == 403
    asked = owner.request("GET", "/api/v1/clinics/%s/audit?userId=%s" % (owner.clinic_id, owner.user_id)).json()["events"]
    assert any(e["action"] == "audit.read" and e["detail"] == "question=sign-in-failures" for e in asked), asked


# Issue 6: the breach-assessment command names the patients an account saw, per clinic, ids only
def test_breach_scope_lists_the_patients_an_account_saw_per_clinic(server):
    owner = server.client().sign_up()
    practitioner = owner.invite(["practitioner"]).log_in()
    seen, _ = owner.create_patient()
    listed, _ = owner.create_patient()
    unseen, fields = owner.create_patient()
    assert practitioner.request("GET", practitioner.patient_path(seen, owner.clinic_id)).status_code == 200
    search = practitioner.request("GET", owner.patients_path() + "?q=" + fields["familyName"])
    assert search.status_code == 200 and [p["id"] for p in search.json()["patients"]] == [unseen], search.text
    server.stop()
    result = server.command("audit", "breach-scope", "--user", practitioner.user_id,
                            "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    scope = json.loads(result.stdout[result.stdout.index("{"):])
    assert scope["user"] == practitioner.user_id
    assert [(c["clinic"], sorted(c["patients"])) for c in scope["clinics"]] == [(owner.clinic_id, sorted([seen, unseen]))], scope
    assert listed not in result.stdout and fields["familyName"] not in result.stdout
    lines = server.command("audit", "breach-scope", "--user", practitioner.user_id, "--from", "2000-01-01T00:00:00Z", "--to", "2000-01-02T00:00:00Z")
    assert lines.returncode == 0 and "total: 0 patients in 0 clinics" in lines.stdout, lines.stdout + lines.stderr
    bad = server.command("audit", "breach-scope", "--user", "nobody", "--from", "x", "--to", "y")
    assert bad.returncode == 2, bad.stdout + bad.stderr
