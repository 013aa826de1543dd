"""Issue 7's acceptance checks through the API, from outside, on SQLite and PostgreSQL: no
double-booking under concurrency, signed consultations that no route can change, amendments that
keep the original, roles that see only what they may, and no clinical plaintext at rest."""
import subprocess
from concurrent.futures import ThreadPoolExecutor

from conftest import canary, error_code, pg_tool, postgres_env
from test_mfa_flow import enrol, pending_login


class Team:
    """An owner, a practitioner, a receptionist and a bookkeeper of one clinic, a patient and a
    30-minute appointment type."""

    def __init__(self, server):
        self.owner = server.client().sign_up()
        self.practitioner = self.owner.invite(["practitioner"]).log_in()
        self.receptionist = self.owner.invite(["receptionist"]).log_in()
        self.bookkeeper = self.owner.invite(["bookkeeper"]).log_in()
        self.patient_id, self.patient = self.owner.create_patient()
        # New clinics narrow a practitioner's reads to patients they are involved with: the
        # practitioner is on the patient's care team, as a clinic would set it up.
        team = self.owner.request("PUT", self.path("patients/%s/care-team" % self.patient_id),
                                  json={"practitionerIds": [self.practitioner.user_id]})
        assert team.status_code == 200, team.text
        created = self.owner.request("POST", self.path("appointment-types"),
                                     json={"name": "Consultation", "durationMinutes": 30, "priceCents": 9500})
        assert created.status_code == 201, created.text
        self.type_id = created.json()["id"]

    def path(self, rest):
        return "/api/v1/clinics/%s/%s" % (self.owner.clinic_id, rest)

    def book(self, client, starts_at):
        return client.request("POST", self.path("appointments"), json={
            "patientId": self.patient_id, "practitionerId": self.practitioner.user_id,
            "appointmentTypeId": self.type_id, "startsAt": starts_at, "reason": "Follow-up"})

    def consultation(self, **note):
        response = self.practitioner.request("POST", self.path("consultations"), json={"patientId": self.patient_id, **note})
        assert response.status_code == 201, response.text
        return response.json()["id"]


# Issue 7: two (here sixteen) concurrent bookings of one practitioner's slot: exactly one succeeds
def test_concurrent_bookings_of_one_slot_exactly_one_succeeds(server):
    team = Team(server)
    assert team.book(team.receptionist, "2031-02-03T08:00:00Z").status_code == 201
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: team.book(team.receptionist, "2031-02-03T09:00:00Z"), range(16)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * 15, [a.text for a in answers if a.status_code not in (201, 409)]
    assert all(error_code(a) == "slot_taken" for a in answers if a.status_code == 409)
    listed = team.owner.request("GET", team.path("appointments?from=2031-02-03T00:00:00Z&to=2031-02-04T00:00:00Z"))
    assert [a["startsAt"] for a in listed.json()["appointments"]] == ["2031-02-03T08:00:00.000Z", "2031-02-03T09:00:00.000Z"]


# POR-9, issue 7: a signed consultation cannot be edited through any route; an amendment shows both
def test_a_signed_consultation_cannot_be_changed_and_an_amendment_shows_both(server):
    team = Team(server)
    cid = team.consultation(subjective="Knee pain after running", assessment="Patellofemoral pain, left")
    path = team.path("consultations/" + cid)
    assert team.practitioner.request("POST", path + "/sign").status_code == 200
    for client in (team.practitioner, team.owner):
        for method, suffix, body in [("PATCH", "", {"assessment": "rewritten"}), ("PUT", "", {"assessment": "rewritten"}),
                                     ("DELETE", "", None), ("POST", "/sign", None)]:
            answer = client.request(method, path + suffix, json=body)
            assert answer.status_code in (404, 405, 409), (method, suffix, answer.status_code, answer.text)
    amended = team.practitioner.request("POST", path + "/amendments",
                                        json={"reason": "Side recorded wrongly", "assessment": "Patellofemoral pain, right"})
    assert amended.status_code == 201, amended.text
    read = team.owner.request("GET", path).json()
    assert read["status"] == "signed"
    assert read["original"]["assessment"] == "Patellofemoral pain, left"
    assert [a["note"]["assessment"] for a in read["amendments"]] == ["Patellofemoral pain, right"]


# DAO-15, DC-11: the receptionist and the bookkeeper never read a consultation; another clinic gets 404
def test_only_clinical_roles_read_consultations(server):
    team = Team(server)
    cid = team.consultation(plan="Private plan")
    for client in (team.receptionist, team.bookkeeper):
        for path in ("consultations", "consultations/" + cid, "prescriptions"):
            answer = client.request("GET", team.path(path))
            assert answer.status_code == 403, (path, answer.text)
            assert "Private plan" not in answer.text
    outsider = server.client().sign_up()
    answer = outsider.request("GET", "/api/v1/clinics/%s/consultations/%s" % (outsider.clinic_id, cid))
    assert answer.status_code == 404
    assert team.receptionist.request("GET", team.path("appointments")).status_code == 200


# V2.8.x (issue 4): under the clinic's MFA policy a practitioner without TOTP is refused clinical routes
def test_a_practitioner_without_required_mfa_gets_403_on_clinical_notes(server):
    team = Team(server)
    policy = team.owner.request("PUT", team.path("security"), json={"mfaRequiredRoles": ["practitioner"], "passwordMinimumLength": 12})
    assert policy.status_code == 200, policy.text
    refused = team.practitioner.request("GET", team.path("consultations"))
    assert refused.status_code == 403 and error_code(refused) == "mfa_enrolment_required", refused.text
    _, recovery, _ = enrol(team.practitioner)
    pending_login(team.practitioner)
    assert team.practitioner.complete_mfa(recovery[0]).status_code == 200
    assert team.practitioner.request("GET", team.path("consultations")).status_code == 200


def clinical_canaries(team):
    """Writes an appointment reason, a signed note with an amendment, a prescription, a referrer,
    and an invoice with a payment, every value a canary; answers the canaries."""
    values = {name: canary(name[:2].title()) for name in
              ["reason", "subjective", "objective", "assessment", "plan", "amendment", "medication", "referrer", "line", "billing",
               "receipt"]}
    booked = team.receptionist.request("POST", team.path("appointments"), json={
        "patientId": team.patient_id, "practitionerId": team.practitioner.user_id, "appointmentTypeId": team.type_id,
        "startsAt": "2031-02-03T10:00:00Z", "reason": values["reason"]})
    assert booked.status_code == 201, booked.text
    cid = team.consultation(subjective=values["subjective"], objective=values["objective"],
                            assessment=values["assessment"], plan=values["plan"])
    assert team.practitioner.request("POST", team.path("consultations/%s/sign" % cid)).status_code == 200
    amended = team.practitioner.request("POST", team.path("consultations/%s/amendments" % cid),
                                        json={"reason": "Correction", "plan": values["amendment"]})
    assert amended.status_code == 201, amended.text
    written = team.practitioner.request("POST", team.path("prescriptions"), json={
        "patientId": team.patient_id, "consultationId": cid,
        "medications": [{"name": values["medication"], "dose": "10 mg", "route": "oral", "frequency": "daily", "quantity": 30}]})
    assert written.status_code == 201, written.text
    read = team.practitioner.request("GET", team.path("consultations/" + cid))
    assert read.json()["original"]["plan"] == values["plan"], read.text
    referrer = team.receptionist.request("POST", team.path("contacts"), json={"kind": "referrer", "name": "Dr " + values["referrer"]})
    assert referrer.status_code == 201, referrer.text
    invoice = team.bookkeeper.request("POST", team.path("invoices"), json={
        "patientId": team.patient_id, "appointmentId": booked.json()["id"], "notes": values["billing"],
        "lines": [{"appointmentTypeId": team.type_id}, {"description": values["line"], "unitCents": 2200, "gstApplies": True}]})
    assert invoice.status_code == 201, invoice.text
    invoice_path = team.path("invoices/%s" % invoice.json()["id"])
    assert team.bookkeeper.request("POST", invoice_path + "/issue").status_code == 200
    paid = team.bookkeeper.request("POST", invoice_path + "/payments", json={"amountCents": 11700, "method": "card", "reference": values["receipt"]})
    assert paid.status_code == 201 and paid.json()["status"] == "paid", paid.text
    return list(values.values())


# DAO-5, DC-2, issue 7: no sealed clinical field is in the SQLite files after the run
def test_no_clinical_plaintext_in_the_sqlite_files(sqlite_server):
    team = Team(sqlite_server)
    canaries = clinical_canaries(team)
    blob = b"".join((sqlite_server.data / name).read_bytes()
                    for name in ["clinickeep.sqlite", "clinickeep.sqlite-wal"] if (sqlite_server.data / name).exists())
    assert team.patient_id.encode() in blob or team.patient_id.upper().encode() in blob
    for value in canaries:
        assert value.encode() not in blob, "plaintext %r at rest" % value


# DAO-5, DC-2, issue 7: nor in a superuser's dump of PostgreSQL
def test_no_clinical_plaintext_in_a_postgresql_dump(postgres_server):
    team = Team(postgres_server)
    canaries = clinical_canaries(team)
    dump = subprocess.run([pg_tool("pg_dump"), "--no-owner", "-d", postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"]],
                          capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    assert b"COPY public.consultations" in dump.stdout and b"COPY public.prescriptions" in dump.stdout
    assert b"COPY public.invoices" in dump.stdout and b"COPY public.payments" in dump.stdout
    for value in canaries:
        assert value.encode() not in dump.stdout, "plaintext %r at rest" % value
