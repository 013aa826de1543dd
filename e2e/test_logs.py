# POR-10, DAO-7: no password, token or personal value ever reaches the server's output
def test_a_whole_flow_leaves_no_secret_or_personal_value_in_the_log(server):
    owner = server.client().sign_up()
    patient_id, fields = owner.create_patient()
    owner.request("GET", owner.patients_path() + "?phone=" + fields["phone"].replace(" ", ""))
    owner.request("GET", owner.patients_path() + "?q=" + fields["familyName"].lower())
    owner.request("GET", owner.patients_path() + "/" + patient_id)
    owner.request("POST", "/api/v1/auth/login", json={"email": owner.email, "password": "not my password at all"})
    server.stop()
    log = server.output()
    assert "route=/api/v1/clinics/:clinicId/patients" in log  # the flow was logged at all
    digits = "".join(ch for ch in fields["phone"] if ch.isdigit())
    secrets = [fields["givenName"], fields["familyName"], fields["email"], fields["address"], fields["medicareNumber"],
               digits, digits[1:], owner.email, owner.cookie, owner.csrf, "velvet harbour", "not my password at all"]
    for secret in secrets:
        assert secret not in log, "%r reached the log" % secret
