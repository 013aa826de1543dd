"""A clinic sees only its own records: another clinic's ids answer 404, its searches find nothing."""
from urllib.parse import quote


def two_clinics(server):
    first = server.client().sign_up()
    second = server.client().sign_up()
    patient_id, fields = first.create_patient()
    return first, second, patient_id, fields


# DAO-16, PRX-13, DU-2, DU-8: 404 (never 403) for read, change and delete, by either clinic's path
def test_another_clinic_gets_404_for_read_change_and_delete(server):
    first, second, patient_id, fields = two_clinics(server)
    for clinic_id in [second.clinic_id, first.clinic_id]:
        path = second.patient_path(patient_id, clinic_id)
        for method, body in [("GET", None), ("PATCH", {"givenName": "Mallory"}), ("DELETE", None)]:
            response = second.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            assert response.json()["error"]["code"] == "not_found"
    intact = first.request("GET", first.patient_path(patient_id))
    assert intact.status_code == 200, intact.text
    for field in ["givenName", "familyName", "email", "address", "medicareNumber"]:
        assert intact.json()[field] == fields[field]


# DAO-16, PRX-13, DU-2: the other clinic's list and searches never return the patient
def test_another_clinics_searches_never_return_the_patient(server):
    first, second, patient_id, fields = two_clinics(server)
    phone = fields["phone"]
    e164 = "+61" + phone.replace(" ", "")[1:]
    for query in ["", "?q=" + fields["familyName"].lower(), "?q=" + quote(fields["givenName"] + " " + fields["familyName"]),
                  "?phone=" + quote(phone), "?phone=" + quote(e164), "?email=" + quote(fields["email"])]:
        response = second.request("GET", second.patients_path() + query)
        assert response.status_code == 200, response.text
        assert response.json()["patients"] == [], query
        assert patient_id not in response.text
    # The same searches do find it in its own clinic.
    assert [p["id"] for p in first.request("GET", first.patients_path() + "?phone=" + quote(phone)).json()["patients"]] == [patient_id]


# DAO-16, DU-2, DU-8: another clinic's patient list and audit trail answer 404
def test_another_clinics_collections_answer_404(server):
    first, second, patient_id, _ = two_clinics(server)
    for path in [second.patients_path(first.clinic_id), second.patients_path(first.clinic_id) + "?q=x",
                 "/api/v1/clinics/%s/audit?patientId=%s" % (first.clinic_id, patient_id)]:
        response = second.request("GET", path)
        assert response.status_code == 404, (path, response.text)
    created = second.request("POST", second.patients_path(first.clinic_id), json={"givenName": "Eve", "familyName": "Intruder"})
    assert created.status_code == 404, created.text
    assert first.request("GET", first.patients_path()).json()["patients"][0]["id"] == patient_id
    assert len(first.request("GET", first.patients_path()).json()["patients"]) == 1


# Security review round 2, A1 (HIGH): an invitation is no password oracle and cannot join
# someone's account to another clinic. Without that account's session the answer is the same
# 409 for a right and a wrong password; signed in as it, with its CSRF token, it joins.
def test_an_invitation_to_an_existing_account_needs_that_accounts_session(server):
    victim = server.client().sign_up()
    inviter = server.client().sign_up()
    invited = inviter.request("POST", "/api/v1/clinics/%s/staff" % inviter.clinic_id,
                              json={"email": victim.email, "name": "Same Person", "roles": ["practitioner"]})
    assert invited.status_code == 201, invited.text
    token = invited.json()["inviteToken"]
    stranger = server.client()
    answers = [stranger.request("POST", "/api/v1/invitations/accept", json={"inviteToken": token, "password": guess})
               for guess in (victim.password, "a wrong but long password")]
    assert [a.status_code for a in answers] == [409, 409], [a.text for a in answers]
    assert answers[0].json() == answers[1].json() and answers[0].json()["error"]["code"] == "sign_in_to_accept"
    assert len(victim.request("GET", "/api/v1/me").json()["memberships"]) == 1
    joined = victim.request("POST", "/api/v1/invitations/accept", json={"inviteToken": token})
    assert joined.status_code == 201, joined.text
    assert len(victim.request("GET", "/api/v1/me").json()["memberships"]) == 2
