"""A clinic owner's everyday flow through the JSON API."""
from urllib.parse import quote


# DC-2, DU-2: sign up, log in, create, find (phone in national form, name token), read, change
def test_sign_up_log_in_create_find_read_and_update_a_patient(server):
    owner = server.client().sign_up()
    me = owner.request("GET", "/api/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == owner.email
    assert [m["clinicId"] for m in me.json()["memberships"]] == [owner.clinic_id]
    assert me.json()["memberships"][0]["roles"] == ["owner"]

    patient_id, sent = owner.create_patient(phone="0412 345 678", medicareNumber="2123 45670 1")

    by_phone = owner.request("GET", owner.patients_path() + "?phone=" + quote("0412 345 678"))
    assert by_phone.status_code == 200, by_phone.text
    assert [p["id"] for p in by_phone.json()["patients"]] == [patient_id]
    by_e164 = owner.request("GET", owner.patients_path() + "?phone=" + quote("+61412345678"))
    assert [p["id"] for p in by_e164.json()["patients"]] == [patient_id]
    by_name = owner.request("GET", owner.patients_path() + "?q=" + sent["familyName"].lower())
    assert [p["id"] for p in by_name.json()["patients"]] == [patient_id]
    by_email = owner.request("GET", owner.patients_path() + "?email=" + quote(sent["email"].upper()))
    assert [p["id"] for p in by_email.json()["patients"]] == [patient_id]

    read = owner.request("GET", owner.patient_path(patient_id))
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["id"] == patient_id
    for field in ["givenName", "familyName", "birthDate", "email", "address"]:
        assert body[field] == sent[field], field
    assert body["phone"] == "+61412345678"
    assert body["medicareNumber"].replace(" ", "") == "2123456701"

    changed = owner.request("PATCH", owner.patient_path(patient_id), json={"address": "77 Jetty Rd, Glenelg", "phone": "0498 000 111"})
    assert changed.status_code == 200, changed.text
    again = owner.request("GET", owner.patient_path(patient_id)).json()
    assert again["address"] == "77 Jetty Rd, Glenelg"
    assert again["phone"] == "+61498000111"
    assert again["familyName"] == sent["familyName"] and again["email"] == sent["email"]
    new_phone = owner.request("GET", owner.patients_path() + "?phone=" + quote("0498 000 111")).json()["patients"]
    assert [p["id"] for p in new_phone] == [patient_id]
    assert owner.request("GET", owner.patients_path() + "?phone=" + quote("0412 345 678")).json()["patients"] == []


# DC-2: name search matches whole tokens, ignoring case and accents
def test_name_search_ignores_case_and_accents(server):
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient(givenName="Zoë", familyName="Núñez-Ångström")
    for query in ["nunez", "ZOE", "zoë", "Ångström"]:
        found = owner.request("GET", owner.patients_path() + "?q=" + quote(query))
        assert found.status_code == 200, found.text
        assert [p["id"] for p in found.json()["patients"]] == [patient_id], query
    assert owner.request("GET", owner.patients_path() + "?q=nun").json()["patients"] == []


# DC-20: a deleted patient is gone
def test_a_deleted_patient_answers_404(server):
    owner = server.client().sign_up()
    patient_id, sent = owner.create_patient()
    assert owner.request("DELETE", owner.patient_path(patient_id)).status_code == 204
    assert owner.request("GET", owner.patient_path(patient_id)).status_code == 404
    assert owner.request("GET", owner.patients_path() + "?q=" + sent["familyName"]).json()["patients"] == []


# DC-10: the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict, and new at every login
def test_the_session_cookie_is_host_only_secure_httponly_strict(server):
    owner = server.client().sign_up()
    cookie = owner.last_login.headers["Set-Cookie"]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert attributes[0].startswith("__host-clinickeep-session=")
    assert "secure" in attributes and "httponly" in attributes and "samesite=strict" in attributes
    assert "path=/" in attributes and not any(a.startswith("domain=") for a in attributes)
    first = owner.cookie
    owner.log_in()
    assert owner.cookie != first


# DC-15: a state-changing request riding on the cookie needs the session's CSRF token
def test_a_cookie_request_without_its_csrf_token_is_refused(server):
    owner = server.client().sign_up()
    response = owner.request("POST", owner.patients_path(), json={"givenName": "Ada", "familyName": "Byron"}, csrf=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_rejected"
    wrong = owner.request("POST", owner.patients_path(), json={"givenName": "Ada", "familyName": "Byron"},
                          csrf=False, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert owner.request("GET", owner.patients_path()).json()["patients"] == []
