def test_sign_up_log_in_create_find_read_and_update_a_patient(server):
    owner = server.client().sign_up()
    me = owner.request("GET", "/api/v1/me").json()
    assert me["memberships"][0]["clinicId"] == owner.clinic_id
    patient_id, sent = owner.create_patient(phone="0412 345 678")

    by_phone = owner.request("GET", owner.patients_path() + "?phone=0412%20345%20678").json()["patients"]
    assert [p["id"] for p in by_phone] == [patient_id]
    by_name = owner.request("GET", owner.patients_path() + "?q=" + sent["familyName"].lower()).json()["patients"]
    assert [p["id"] for p in by_name] == [patient_id]

    read = owner.request("GET", owner.patients_path() + "/" + patient_id).json()
    assert read["givenName"] == sent["givenName"]
    assert read["phone"] == "+61412345678"
    assert read["medicareNumber"] == sent["medicareNumber"]

    changed = owner.request("PATCH", owner.patients_path() + "/" + patient_id, json={"address": "77 Jetty Rd", "phone": "+61 498 000 111"})
    assert changed.status_code == 200, changed.text
    again = owner.request("GET", owner.patients_path() + "/" + patient_id).json()
    assert again["address"] == "77 Jetty Rd"
    assert again["phone"] == "+61498000111"
    assert again["familyName"] == sent["familyName"]


# DC-15
def test_a_cookie_request_without_its_csrf_token_is_refused(server):
    owner = server.client().sign_up()
    response = owner.request("POST", owner.patients_path(), json={"givenName": "A", "familyName": "B"}, csrf=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_rejected"


# DC-16: bad input is a 4xx in the error shape, never a 5xx
def test_bad_input_answers_400_naming_the_field(server):
    owner = server.client().sign_up()
    malformed = owner.request("POST", owner.patients_path(), data='{"givenName": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "invalid_body"
    missing = owner.request("POST", owner.patients_path(), json={"givenName": "Ada"})
    assert missing.status_code == 400
    assert missing.json()["error"]["field"] == "familyName"
    bad_phone = owner.request("GET", owner.patients_path() + "?phone=notaphone")
    assert bad_phone.status_code == 400
    assert bad_phone.json()["error"]["field"] == "phone"
