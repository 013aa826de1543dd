"""Nothing secret or personal reaches the server's output."""
from urllib.parse import quote

from conftest import personal_values


# POR-10, DAO-7: a whole flow leaves no password, token, cookie or personal value in stdout/stderr
def test_a_whole_flow_leaves_no_secret_or_personal_value_in_the_log(server):
    owner = server.client().sign_up()
    patient_id, fields = owner.create_patient()
    path = owner.patients_path()
    for query in ["?phone=" + quote(fields["phone"]), "?q=" + quote(fields["familyName"].lower()), "?email=" + quote(fields["email"])]:
        assert owner.request("GET", path + query).status_code == 200
    assert owner.request("GET", owner.patient_path(patient_id)).status_code == 200
    assert owner.request("PATCH", owner.patient_path(patient_id), json={"address": fields["address"] + " West"}).status_code == 200
    # Personal values where they do not belong: in a path, in a malformed body, in a rejected field.
    owner.request("GET", path + "/" + quote(fields["givenName"]))
    owner.request("POST", path, data='{"givenName": "%s", ' % fields["familyName"], headers={"Content-Type": "application/json"})
    owner.request("POST", path, json=dict(fields, email=fields["email"] + "@@"))
    owner.request("POST", path, json={"givenName": fields["givenName"]}, csrf=False)
    # Secrets where they do not belong: a wrong password, a forged bearer token, a stale cookie.
    wrong_password = owner.password + " wrong"
    server.client().request("POST", "/api/v1/auth/login", json={"email": owner.email, "password": wrong_password})
    forged = "ck_" + fields["medicareNumber"] + "forgedtoken"
    server.client().request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + forged})
    old_cookie, old_csrf = owner.cookie, owner.csrf
    owner.log_in()
    assert owner.request("POST", "/api/v1/auth/logout").status_code == 204
    server.stop()

    log = server.output()
    assert "/api/v1/clinics/:clinicId/patients" in log, "the flow was not logged at all"
    secrets = personal_values(fields) + [fields["address"] + " West", owner.email, owner.name, owner.password,
                                         wrong_password, forged, owner.cookie, owner.csrf, old_cookie, old_csrf]
    for secret in secrets:
        assert secret not in log, "%r reached the server's output" % secret


# POR-10, DAO-7: and at the most verbose log level, where database queries and their binds are logged
def test_even_trace_logging_leaves_no_secret_or_personal_value(server):
    server.stop()
    server.env["CLINICKEEP_LOG_LEVEL"] = "trace"
    server.start()
    owner = server.client().sign_up()
    patient_id, fields = owner.create_patient()
    owner.request("GET", owner.patients_path() + "?q=" + quote(fields["familyName"]))
    owner.request("GET", owner.patients_path() + "?phone=" + quote(fields["phone"]))
    owner.request("GET", owner.patient_path(patient_id))
    server.client().request("POST", "/api/v1/auth/login", json={"email": owner.email, "password": owner.password + "x"})
    server.stop()
    log = server.output()
    assert "Executing query" in log or " trace " in log, "trace logging was not on"
    for secret in personal_values(fields) + [owner.email, owner.name, owner.password, owner.cookie, owner.csrf]:
        assert secret not in log, "%r reached the server's output at trace level" % secret
