"""Sessions end (ASVS V3.3): after idle time, at the absolute limit, when revoked from another
session, all at once ("sign out everywhere else"), and after a password change; on SQLite and PostgreSQL."""
import time

from conftest import password, session_cookie


def another_session(owner):
    """The same person signed in a second time, from another client."""
    other = owner.server.client()
    other.email, other.password, other.clinic_id = owner.email, owner.password, owner.clinic_id
    return other.log_in()


def status(client, path="/api/v1/me"):
    return client.request("GET", path).status_code


# V3.3.1: a session unused for longer than CLINICKEEP_SESSION_IDLE (3 s) is refused on its next request
def test_V3_3_1_a_session_idle_past_the_limit_is_refused(backend, make_server):
    server = make_server(backend, env={"CLINICKEEP_SESSION_IDLE": "3s"})
    owner = server.client().sign_up()
    assert status(owner) == 200
    time.sleep(4)
    assert status(owner) == 401
    assert status(owner, owner.patients_path()) == 401


# V3.3.1: the idle limit counts from the last request: a session in use outlives it
def test_V3_3_1_a_session_in_use_outlives_the_idle_limit(backend, make_server):
    server = make_server(backend, env={"CLINICKEEP_SESSION_IDLE": "3s"})
    owner = server.client().sign_up()
    started = time.monotonic()
    while time.monotonic() - started < 6:
        assert status(owner) == 200, "refused %.1f s after login" % (time.monotonic() - started)
        time.sleep(1)


# V3.3.2: a session ends at CLINICKEEP_SESSION_ABSOLUTE however busy it is
def test_V3_3_2_a_session_in_use_ends_at_the_absolute_limit(backend, make_server):
    # The idle limit is far away, so only the absolute limit can end this session.
    server = make_server(backend, env={"CLINICKEEP_SESSION_IDLE": "1h", "CLINICKEEP_SESSION_ABSOLUTE": "5s"})
    owner = server.client().sign_up()
    logged_in = time.monotonic()
    while time.monotonic() - logged_in < 3.5:
        assert status(owner) == 200
        time.sleep(1)
    time.sleep(max(0.0, 6.5 - (time.monotonic() - logged_in)))
    assert status(owner) == 401


# V3.3.x: a session revoked from another session is refused on its next request
def test_a_session_revoked_from_another_session_is_refused(server):
    owner = server.client().sign_up()
    other = another_session(owner)
    other_id, _ = other.session_ids()
    revoked = owner.request("DELETE", "/api/v1/me/sessions/" + other_id)
    assert revoked.status_code == 204, revoked.text
    assert status(other) == 401
    assert status(owner) == 200


# V3.3.x: DELETE /me/sessions ends every other session and keeps the current one
def test_signing_out_everywhere_else_keeps_only_the_current_session(server):
    owner = server.client().sign_up()
    others = [another_session(owner), another_session(owner)]
    response = owner.request("DELETE", "/api/v1/me/sessions")
    assert response.status_code == 200, response.text
    assert response.json() == {"ended": 2}
    assert [status(o) for o in others] == [401, 401]
    assert status(owner) == 200
    assert owner.session_ids()[1] == []


# V3.3.3: after POST /me/password every other session is refused; the current one stays
def test_V3_3_3_a_password_change_ends_every_other_session(server):
    owner = server.client().sign_up()
    other = another_session(owner)
    new = password()
    changed = owner.request("POST", "/api/v1/me/password", json={"currentPassword": owner.password, "newPassword": new})
    assert changed.status_code == 204, changed.text
    assert status(other) == 401
    assert status(owner) == 200


# V3.3.4: the HTML page GET /me/sessions lists the signed-in person's sessions with a way to end them
def test_the_sessions_page_lists_the_sessions(server):
    owner = server.client().sign_up()
    other = another_session(owner)
    current_id, other_ids = owner.session_ids()
    page = owner.request("GET", "/me/sessions")
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert other_ids and all(i in page.text for i in other_ids), page.text
    assert "<form" in page.text and "<script" not in page.text
    assert status(other) == 200


# V3.3.x, V4.1.x: a member whose roles are changed has every session ended
def test_a_member_whose_roles_change_is_signed_out(server):
    owner = server.client().sign_up()
    member = owner.invite(["receptionist"]).log_in()
    changed = owner.request("PATCH", "/api/v1/clinics/%s/staff/%s" % (owner.clinic_id, member.user_id), json={"roles": ["practitioner"]})
    assert changed.status_code == 200, changed.text
    assert status(member) == 401
    member.log_in()
    assert [m["roles"] for m in member.request("GET", "/api/v1/me").json()["memberships"]] == [["practitioner"]]
    assert status(owner) == 200


# V3.2.1: changing your own roles replaces your session: a new cookie and an X-CSRF-Token header
def test_changing_your_own_roles_replaces_your_session(server):
    owner = server.client().sign_up()
    old_cookie = owner.cookie
    changed = owner.request("PATCH", "/api/v1/clinics/%s/staff/%s" % (owner.clinic_id, owner.user_id), json={"roles": ["owner", "practitioner"]})
    assert changed.status_code == 200, changed.text
    new_cookie, new_csrf = session_cookie(changed), changed.headers.get("X-CSRF-Token")
    assert new_cookie and new_cookie != old_cookie and new_csrf, changed.headers
    assert status(owner) == 401
    owner.cookie, owner.csrf = new_cookie, new_csrf
    assert owner.request("POST", owner.patients_path(), json={"givenName": "Ada", "familyName": "Replaced"}).status_code == 201
