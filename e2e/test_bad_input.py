"""Bad input answers 4xx in the error shape, naming the field; never a 5xx."""
import pytest

JSON = {"Content-Type": "application/json"}


def error_of(response):
    assert 400 <= response.status_code < 500, "%s %s" % (response.status_code, response.text)
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


# DC-16
def test_malformed_json_answers_400_invalid_body(server):
    owner = server.client().sign_up()
    response = owner.request("POST", owner.patients_path(), data='{"givenName": ', headers=JSON)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_body"


# DC-16
@pytest.mark.parametrize("missing", ["givenName", "familyName"])
def test_a_missing_required_field_answers_400_naming_it(server, missing):
    owner = server.client().sign_up()
    body = {"givenName": "Ada", "familyName": "Byron", "birthDate": "1980-12-10"}
    del body[missing]
    response = owner.request("POST", owner.patients_path(), json=body)
    assert response.status_code == 400
    assert error_of(response)["field"] == missing


# DC-16
def test_invalid_fields_answer_400_naming_them(server):
    owner = server.client().sign_up()
    valid = {"givenName": "Ada", "familyName": "Byron", "birthDate": "1980-12-10", "phone": "0412 345 678",
             "email": "ada@example.com", "address": "1 Main St", "medicareNumber": "2123 45670 1"}
    for field, value in [("birthDate", "1980-02-30"), ("birthDate", "2999-01-01"), ("phone", "12"),
                         ("email", "no-at-sign"), ("medicareNumber", "2123 45671 1"), ("givenName", "a" * 10000),
                         ("givenName", "a\u0000b"), ("givenName", 5)]:
        response = owner.request("POST", owner.patients_path(), json=dict(valid, **{field: value}))
        assert response.status_code == 400, (field, value, response.text)
        assert error_of(response).get("field") == field, (field, value, response.text)
    assert owner.request("GET", owner.patients_path()).json()["patients"] == []


# DC-16: whatever arrives, the answer is a 4xx in the error shape
def test_no_bad_body_gets_a_5xx(server):
    owner = server.client().sign_up()
    patient_id, _ = owner.create_patient()
    cases = [
        ("POST", owner.patients_path(), "", JSON),
        ("POST", owner.patients_path(), "[]", JSON),
        ("POST", owner.patients_path(), "null", JSON),
        ("POST", owner.patients_path(), '"text"', JSON),
        ("POST", owner.patients_path(), '{"givenName": {"nested": true}, "familyName": []}', JSON),
        ("POST", owner.patients_path(), "\xff\xfe{", JSON),
        ("POST", owner.patients_path(), "givenName=Ada", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", owner.patients_path(), '{"givenName": "' + "a" * 100000 + '"}', JSON),
        ("PATCH", owner.patient_path(patient_id), "{", JSON),
        ("PATCH", owner.patient_path(patient_id), '{"phone": 5}', JSON),
        ("PATCH", owner.patient_path(patient_id), '{"givenName": ""}', JSON),
        ("GET", owner.patients_path() + "?phone=notaphone", None, None),
        ("GET", owner.patients_path() + "?email=%00", None, None),
        ("GET", owner.patient_path("not-a-uuid"), None, None),
        ("GET", "/api/v1/clinics/not-a-uuid/patients", None, None),
        ("GET", "/api/v1/clinics/%s/audit?patientId=zzz" % owner.clinic_id, None, None),
        ("GET", "/api/v1/clinics/%s/audit?from=yesterday" % owner.clinic_id, None, None),
        ("POST", "/api/v1/clinics", "{", JSON),
        ("POST", "/api/v1/clinics", '{"name": "x"}', JSON),
        ("POST", "/api/v1/auth/login", "{", JSON),
        ("POST", "/api/v1/auth/login", '{"email": "a@b.example"}', JSON),
    ]
    for method, path, data, headers in cases:
        response = owner.request(method, path, data=data, headers=headers)
        error_of(response)
