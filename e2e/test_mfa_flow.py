"""Issue 4's acceptance script, one behaviour per test, on SQLite and PostgreSQL: an invited
receptionist enrols TOTP, signs in with password then code, codes are single-use, and the clinic's
MFA policy and the staff list see who has a second factor."""
import re
import time

import pyotp

from conftest import error_code

STEP = 30
ROLES = ["owner", "admin", "practitioner", "receptionist", "bookkeeper"]


def fresh_code(totp, after_step=None, margin=5.0):
    """(code, step) for the current 30-s step once it is later than after_step and has at least
    margin seconds left, so the code is still current when the server checks it."""
    while True:
        now = time.time()
        step = int(now // STEP)
        if (after_step is None or step > after_step) and STEP - (now % STEP) >= margin:
            return totp.at(step * STEP), step
        time.sleep(0.2)


def wrong_code(totp):
    """Six digits that are the code of no step near now."""
    near = {totp.at(time.time() + k * STEP) for k in range(-3, 4)}
    candidate = int(totp.now())
    while True:
        candidate = (candidate + 123457) % 1000000
        if "%06d" % candidate not in near:
            return "%06d" % candidate


def receptionist(server):
    """An owner and a receptionist they invited, who accepted and signed in with a password."""
    owner = server.client().sign_up()
    member = owner.invite(["receptionist"])
    member.log_in()
    return owner, member


def enrol(member):
    """POST /me/totp then /me/totp/confirm; (TOTP, recovery codes, the confirmed code's step)."""
    started = member.request("POST", "/api/v1/me/totp", json={"password": member.password})
    assert started.status_code == 201, started.text
    totp = pyotp.TOTP(started.json()["secret"])
    code, step = fresh_code(totp)
    confirmed = member.request("POST", "/api/v1/me/totp/confirm", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recoveryCodes"], step


def enrolled_receptionist(server):
    owner, member = receptionist(server)
    totp, recovery, step = enrol(member)
    assert member.request("POST", "/api/v1/auth/logout").status_code == 204
    return owner, member, totp, recovery, step


def pending_login(member):
    response = member.login_response()
    assert response.status_code == 200, response.text
    assert response.json()["next"] == "mfa", response.text
    return response


def me(client):
    response = client.request("GET", "/api/v1/me")
    assert response.status_code == 200, response.text
    return response.json()


# Invitation (201 {id, inviteToken}), acceptance (201) and a password-only login before enrolment
def test_an_invited_receptionist_accepts_and_signs_in_with_a_password_alone(server):
    _, member = receptionist(server)
    assert member.last_login.json()["next"] == "done"
    assert member.last_login.json()["mfaEnrolmentRequired"] is False
    body = me(member)
    assert body["mfa"] == {"totp": False, "passkeys": 0}
    assert [m["roles"] for m in body["memberships"]] == [["receptionist"]]


# V2.8.1/V2.8.3: the secret is base32 without padding, and the otpauth URL carries the same secret
def test_the_otpauth_url_parses_with_pyotp_and_gives_the_same_secret(server):
    _, member = receptionist(server)
    started = member.request("POST", "/api/v1/me/totp", json={"password": member.password})
    assert started.status_code == 201, started.text
    secret, url = started.json()["secret"], started.json()["otpauthUrl"]
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    assert url.startswith("otpauth://totp/ClinicKeep:"), url
    parsed = pyotp.parse_uri(url)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret
    assert parsed.issuer == "ClinicKeep" and parsed.name == member.email
    assert parsed.digits == 6 and parsed.interval == 30
    assert parsed.now() == pyotp.TOTP(secret).now()


# V2.8.1: a wrong confirmation code is refused (400 invalid_code, field code) and TOTP stays off
def test_a_wrong_confirmation_code_is_refused(server):
    _, member = receptionist(server)
    started = member.request("POST", "/api/v1/me/totp", json={"password": member.password})
    assert started.status_code == 201, started.text
    refused = member.request("POST", "/api/v1/me/totp/confirm", json={"code": wrong_code(pyotp.TOTP(started.json()["secret"]))})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_code" and refused.json()["error"]["field"] == "code"
    assert me(member)["mfa"]["totp"] is False


# V2.6.2: confirming gives ten distinct recovery codes, and /me shows TOTP on
def test_confirming_totp_gives_ten_recovery_codes(server):
    _, member = receptionist(server)
    _, recovery, _ = enrol(member)
    assert len(recovery) == 10 and len(set(recovery)) == 10, recovery
    assert all(re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", code) for code in recovery), recovery
    assert me(member)["mfa"] == {"totp": True, "passkeys": 0}


# Enrolling a second time is a conflict (409 totp_enrolled)
def test_enrolling_totp_twice_is_a_conflict(server):
    _, member = receptionist(server)
    enrol(member)
    again = member.request("POST", "/api/v1/me/totp", json={"password": member.password})
    assert again.status_code == 409, again.text
    assert error_code(again) == "totp_enrolled"


# V2.8.1: with TOTP, the password alone gives only a pending session (next == "mfa")
def test_with_totp_a_password_login_answers_next_mfa(server):
    _, member, _, _, _ = enrolled_receptionist(server)
    response = pending_login(member)
    assert response.json()["csrfToken"] and member.cookie


# V2.8.1, V4.1.1: the pending session is refused everywhere else with 401 mfa_required
def test_a_pending_session_gets_401_mfa_required_on_other_routes(server):
    owner, member, _, _, _ = enrolled_receptionist(server)
    pending_login(member)
    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/me/sessions"), ("GET", member.patients_path()),
                         ("POST", "/api/v1/me/totp"), ("POST", member.patients_path())]:
        response = member.request(method, path, json={"givenName": "Pat", "familyName": "Pending"} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        assert error_code(response) == "mfa_required", (method, path, response.text)
    assert owner.request("GET", owner.patients_path()).json()["patients"] == []


# V3.3.1: a pending session can be logged out
def test_a_pending_session_can_log_out(server):
    _, member, _, _, _ = enrolled_receptionist(server)
    pending_login(member)
    assert member.request("POST", "/api/v1/auth/logout").status_code == 204
    assert member.request("GET", "/api/v1/me").status_code == 401


# V2.8.1, V3.2.1: a TOTP code completes the login with a NEW cookie; the pending one is gone
def test_a_totp_code_completes_the_login_with_a_new_session_cookie(server):
    _, member, totp, _, confirmed_step = enrolled_receptionist(server)
    pending_login(member)
    pending_cookie, pending_csrf = member.cookie, member.csrf
    code, _ = fresh_code(totp, after_step=confirmed_step)
    done = member.complete_mfa(code)
    assert done.status_code == 200, done.text
    assert done.json()["next"] == "done" and done.json()["csrfToken"]
    assert member.cookie != pending_cookie
    assert me(member)["mfa"]["totp"] is True
    member.cookie, member.csrf = pending_cookie, pending_csrf
    assert member.request("GET", "/api/v1/me").status_code == 401


# V2.8.4: a TOTP code (time step) is accepted once: the same code in a second login is refused
def test_V2_8_4_a_totp_code_cannot_be_used_in_a_second_login(server):
    _, member, totp, _, confirmed_step = enrolled_receptionist(server)
    pending_login(member)
    code, _ = fresh_code(totp, after_step=confirmed_step)
    assert member.complete_mfa(code).status_code == 200
    second = server.client()
    second.email, second.password = member.email, member.password
    pending_login(second)
    replayed = second.complete_mfa(code)
    assert replayed.status_code == 401, replayed.text
    assert error_code(replayed) == "invalid_code"
    assert second.request("GET", "/api/v1/me").status_code == 401


# V2.6.1: a recovery code completes a login once; its second use is refused
def test_a_recovery_code_works_once(server):
    _, member, _, recovery, _ = enrolled_receptionist(server)
    pending_login(member)
    assert member.complete_mfa(recovery[0]).status_code == 200
    assert me(member)["user"]["email"] == member.email
    again = server.client()
    again.email, again.password = member.email, member.password
    pending_login(again)
    reused = again.complete_mfa(recovery[0])
    assert reused.status_code == 401, reused.text
    assert error_code(reused) == "invalid_code"
    assert again.complete_mfa(recovery[1]).status_code == 200


# V2.8.1: a wrong code is refused with 401 invalid_code and the session stays pending
def test_a_wrong_mfa_code_is_refused(server):
    _, member, totp, _, _ = enrolled_receptionist(server)
    pending_login(member)
    refused = member.complete_mfa(wrong_code(totp))
    assert refused.status_code == 401, refused.text
    assert error_code(refused) == "invalid_code"
    assert error_code(member.request("GET", "/api/v1/me")) == "mfa_required"


# V2.2.1: five wrong codes lock the second step (429), even for a right code afterwards
def test_V2_2_1_five_wrong_mfa_codes_lock_the_second_step(server):
    _, member, totp, recovery, _ = enrolled_receptionist(server)
    pending_login(member)
    answers = [member.complete_mfa(wrong_code(totp)) for _ in range(6)]
    statuses = [a.status_code for a in answers]
    assert statuses[:4] == [401] * 4, statuses
    assert 429 in statuses[4:], statuses
    locked = member.complete_mfa(recovery[0])
    assert locked.status_code == 429, locked.text
    assert error_code(locked) == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0


# V4.1.3: a receptionist signed in with both factors still may not read the audit trail (403)
def test_the_receptionist_gets_403_on_the_audit_trail(server):
    _, member, _, recovery, _ = enrolled_receptionist(server)
    pending_login(member)
    assert member.complete_mfa(recovery[0]).status_code == 200
    response = member.request("GET", "/api/v1/clinics/%s/audit" % member.clinic_id)
    assert response.status_code == 403, response.text
    assert member.request("GET", member.patients_path()).status_code == 200


# V2.8.x: disabling TOTP needs the right password (400 invalid_credentials, field password), then 204
def test_disabling_totp_needs_the_right_password(server):
    _, member = receptionist(server)
    enrol(member)
    refused = member.request("POST", "/api/v1/me/totp/disable", json={"password": member.password + "x"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_credentials" and refused.json()["error"]["field"] == "password"
    assert me(member)["mfa"]["totp"] is True
    disabled = member.request("POST", "/api/v1/me/totp/disable", json={"password": member.password})
    assert disabled.status_code == 204, disabled.text
    assert me(member)["mfa"]["totp"] is False
    assert member.login_response().json()["next"] == "done"


# The owner's staff list shows each member's mfa.totp
def test_the_staff_list_shows_each_members_totp(server):
    owner, member = receptionist(server)
    other = owner.invite(["practitioner"])
    enrol(member)
    response = owner.request("GET", "/api/v1/clinics/%s/staff" % owner.clinic_id)
    assert response.status_code == 200, response.text
    totp = {m["email"]: m["mfa"]["totp"] for m in response.json()["staff"]}
    assert totp == {owner.email: False, member.email: True, other.email: False}, response.text


def require_mfa_for_receptionists(owner):
    body = {"mfaRequiredRoles": ["receptionist"], "passwordMinimumLength": 12}
    response = owner.request("PUT", "/api/v1/clinics/%s/security" % owner.clinic_id, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == dict(body, caseBasedAccess=True)
    return response


# V2.8.x: the policy is kept: GET /security answers what PUT set (default: no role, length 12)
def test_the_owner_sets_the_clinic_mfa_policy(server):
    owner = server.client().sign_up()
    path = "/api/v1/clinics/%s/security" % owner.clinic_id
    before = owner.request("GET", path)
    assert before.status_code == 200, before.text
    assert before.json() == {"mfaRequiredRoles": [], "passwordMinimumLength": 12, "caseBasedAccess": True}
    require_mfa_for_receptionists(owner)
    assert owner.request("GET", path).json() == {"mfaRequiredRoles": ["receptionist"], "passwordMinimumLength": 12,
                                                  "caseBasedAccess": True}


# V2.8.x: under the policy, a receptionist without TOTP gets 403 mfa_enrolment_required in the clinic
def test_under_the_policy_a_receptionist_without_totp_gets_403_mfa_enrolment_required(server):
    owner, member = receptionist(server)
    require_mfa_for_receptionists(owner)
    refused = member.request("GET", member.patients_path())
    assert refused.status_code == 403, refused.text
    assert error_code(refused) == "mfa_enrolment_required"
    assert member.request("GET", "/api/v1/me").status_code == 200
    assert owner.request("GET", owner.patients_path()).status_code == 200


# Under the policy the login answer says mfaEnrolmentRequired, and /me/totp still works
def test_under_the_policy_the_login_answer_asks_for_enrolment(server):
    owner, member = receptionist(server)
    require_mfa_for_receptionists(owner)
    response = member.login_response()
    assert response.status_code == 200, response.text
    assert response.json()["next"] == "done" and response.json()["mfaEnrolmentRequired"] is True
    assert member.request("POST", "/api/v1/me/totp", json={"password": member.password}).status_code == 201


# Once enrolled (and signed in with both factors) the receptionist reaches the clinic again
def test_under_the_policy_an_enrolled_receptionist_reaches_the_clinic(server):
    owner, member = receptionist(server)
    require_mfa_for_receptionists(owner)
    _, recovery, _ = enrol(member)
    pending_login(member)
    done = member.complete_mfa(recovery[0])
    assert done.status_code == 200, done.text
    assert member.request("GET", member.patients_path()).status_code == 200


# V4.1.1: only an owner changes the policy; an admin reads it but gets 403 on PUT
def test_only_an_owner_changes_the_clinic_security_policy(server):
    owner = server.client().sign_up()
    admin = owner.invite(["admin"]).log_in()
    path = "/api/v1/clinics/%s/security" % owner.clinic_id
    assert admin.request("GET", path).status_code == 200
    refused = admin.request("PUT", path, json={"mfaRequiredRoles": [], "passwordMinimumLength": 12})
    assert refused.status_code == 403, refused.text


# V2.1.1: a minimum below 12 is allowed only when every role must use MFA
def test_a_password_minimum_below_12_needs_mfa_for_every_role(server):
    owner = server.client().sign_up()
    path = "/api/v1/clinics/%s/security" % owner.clinic_id
    refused = owner.request("PUT", path, json={"mfaRequiredRoles": ["receptionist"], "passwordMinimumLength": 10})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["field"] == "passwordMinimumLength"
    accepted = owner.request("PUT", path, json={"mfaRequiredRoles": ROLES, "passwordMinimumLength": 10})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["passwordMinimumLength"] == 10 and sorted(accepted.json()["mfaRequiredRoles"]) == sorted(ROLES)


# V7.1.3/V7.2.2: the clinic's audit trail records the invitation, its acceptance and the policy change
def test_the_clinic_audit_trail_records_invitation_acceptance_and_policy_change(server):
    owner, member = receptionist(server)
    require_mfa_for_receptionists(owner)
    response = owner.request("GET", "/api/v1/clinics/%s/audit" % owner.clinic_id)
    assert response.status_code == 200, response.text
    events = {e["action"]: e for e in response.json()["events"]}
    for action in ["staff.invite", "invitation.accept", "clinic.security.update"]:
        assert action in events and events[action]["outcome"] == "success", sorted(events)
    assert events["staff.invite"]["actorId"] == owner.user_id
    assert events["clinic.security.update"]["actorId"] == owner.user_id
