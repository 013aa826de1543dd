"""Messages to patients (issue 23, first part): a booking, a move and a cancellation each send the
patient one e-mail, through a real SMTP server that demands STARTTLS with a certificate the server
is told to trust; the chart lists them as sent; a refused address is marked failed and not tried
again; two servers on one PostgreSQL send each message once; another clinic sees none of it."""
import ssl
import time

import pytest
import requests
from aiosmtpd.controller import Controller

from conftest import canary, free_port
from sms_provider import TwilioStandIn
from test_clinic_day import Team
from test_password_reset import FAST, Sink, self_signed, text_of

DELIVERY_TIMEOUT = 20.0


class RefusingSink(Sink):
    """The sink, refusing (550) any recipient whose address starts with "refuse"."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refuse"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(scope="module")
def tls_sink(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smtp")
    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    sink.env = {"CLINICKEEP_SMTP_URL": "smtp://localhost:%d" % controller.port, "CLINICKEEP_SMTP_CA_FILE": str(cert), **FAST}
    yield sink
    controller.stop()


def messages(team, patient_id=None):
    listed = team.receptionist.request("GET", team.path("patients/%s/messages" % (patient_id or team.patient_id)))
    assert listed.status_code == 200, listed.text
    return listed.json()["messages"]


def wait_until(check, what, timeout=DELIVERY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.2)


# DU-7, DU-10: every message is about a booking the patient has, and says when and with whom,
# never why; each goes exactly once, over TLS.
def test_booking_moving_and_cancelling_each_mail_the_patient_once(backend, make_server, tls_sink):
    server = make_server(backend, env=tls_sink.env)
    team = Team(server)
    address = team.patient["email"]
    bystander_id, bystander = team.owner.create_patient()
    reason = canary("Why")

    booked = team.receptionist.request("POST", team.path("appointments"), json={
        "patientId": team.patient_id, "practitionerId": team.practitioner.user_id,
        "appointmentTypeId": team.type_id, "startsAt": "2031-06-02T09:00:00Z", "reason": reason})
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["id"]
    confirmation = tls_sink.wait_for(address, lambda m: "is booked" in m["Subject"], timeout=DELIVERY_TIMEOUT)
    moved = team.receptionist.request("PATCH", team.path("appointments/" + appointment), json={"startsAt": "2031-06-02T11:00:00Z"})
    assert moved.status_code == 200, moved.text
    change = tls_sink.wait_for(address, lambda m: "has changed" in m["Subject"], timeout=DELIVERY_TIMEOUT)
    cancelled = team.receptionist.request("POST", team.path("appointments/%s/status" % appointment), json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    tls_sink.wait_for(address, lambda m: "cancelled" in m["Subject"], timeout=DELIVERY_TIMEOUT)

    wait_until(lambda: all(m["status"] == "sent" for m in messages(team)), "every message marked sent")
    listed = messages(team)
    assert [m["kind"] for m in listed] == ["cancellation", "change", "confirmation"], listed
    assert {m["channel"] for m in listed} == {"email"} and all(m["sentAt"] for m in listed)
    time.sleep(2)  # a further delivery round or two: nothing goes twice
    assert len(tls_sink.to(address)) == 3, [m["Subject"] for m in tls_sink.to(address)]

    words = text_of(confirmation)
    assert team.practitioner.name in words and "Monday 2 June 2031 at 09:00" in words, words
    assert "Monday 2 June 2031 at 11:00" in text_of(change)
    # Two parts, as a mail program sees them: the plain text and the same words as HTML.
    html = confirmation.get_body(preferencelist=("html",)).get_content()
    assert "<p>" in html and "Monday 2 June 2031 at 09:00" in html and reason not in html, html
    assert confirmation.get_body(preferencelist=("plain",)).get_content().startswith("Your appointment is booked.")
    assert reason not in words and "Consultation" not in words and team.patient["familyName"] not in words
    assert not tls_sink.to(bystander["email"]), "a patient with no booking was contacted"
    assert messages(team, bystander_id) == []

    # From another clinic: the same patient's messages answer 404.
    stranger = server.client().sign_up()
    probe = stranger.request("GET", "/api/v1/clinics/%s/patients/%s/messages" % (stranger.clinic_id, team.patient_id))
    assert probe.status_code == 404, probe.text


def test_a_refused_address_is_marked_failed_and_not_tried_again(make_server, tls_sink):
    server = make_server("sqlite", env=tls_sink.env)
    team = Team(server)
    refused_id, _ = team.owner.create_patient(email="refuse-%s@example.org" % canary("r").lower())
    booked = team.receptionist.request("POST", team.path("appointments"), json={
        "patientId": refused_id, "practitionerId": team.practitioner.user_id,
        "appointmentTypeId": team.type_id, "startsAt": "2031-06-03T09:00:00Z"})
    assert booked.status_code == 201, booked.text
    wait_until(lambda: [m["status"] for m in messages(team, refused_id)] == ["failed"], "the message marked failed")
    failed = messages(team, refused_id)[0]
    assert "RCPT" in failed["failureReason"] and "sentAt" not in failed, failed
    assert "patient message not sent" in server.output()
    assert "refuse-" not in server.output(), "the address reached the log"


# Two servers on one PostgreSQL: each message is taken by one of them and sent once.
def test_two_servers_on_one_postgresql_send_each_message_once(make_server, tls_sink):
    first = make_server("postgres", env=tls_sink.env)
    make_server("postgres", env=tls_sink.env, reset_database=False, key_from=first)
    team = Team(first)
    starts = ["2031-07-0%dT%02d:00:00Z" % (day, hour) for day in (1, 2) for hour in (9, 10, 11, 12, 13)]
    for start in starts:
        booked = team.receptionist.request("POST", team.path("appointments"), json={
            "patientId": team.patient_id, "practitionerId": team.practitioner.user_id,
            "appointmentTypeId": team.type_id, "startsAt": start})
        assert booked.status_code == 201, booked.text
    wait_until(lambda: len(messages(team)) == len(starts) and all(m["status"] == "sent" for m in messages(team)), "all sent")
    time.sleep(2)
    assert len(tls_sink.to(team.patient["email"])) == len(starts)


# The scheduler inside serve: a reminder for tomorrow's booking arrives, once; none for a
# cancelled booking or for a patient who declined messages. The bookings are made while the
# clinic sends nothing, so no confirmation went out to make the reminder redundant.
def test_the_scheduler_reminds_of_booked_appointments_only(backend, make_server, tls_sink):
    server = make_server(backend, env={**tls_sink.env, "CLINICKEEP_SCHEDULER_INTERVAL": "1s"})
    team = Team(server)
    silent = team.owner.request("PUT", team.path("settings/communications"),
                                json={"channels": [], "quietHours": {"start": "00:00", "end": "00:00"}, "senderName": "Harbour Clinic"})
    assert silent.status_code == 200, silent.text
    declined_id, declined = team.owner.create_patient()
    optout = team.receptionist.request("PUT", team.path("patients/%s/contact-preferences" % declined_id), json={"channels": []})
    assert optout.status_code == 200, optout.text
    cancelled_id, cancelled = team.owner.create_patient()
    tomorrow = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() + 20 * 3600))
    later = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() + 21 * 3600))
    latest = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() + 22 * 3600))
    ids = []
    for patient_id, start in ((team.patient_id, tomorrow), (declined_id, later), (cancelled_id, latest)):
        booked = team.receptionist.request("POST", team.path("appointments"), json={
            "patientId": patient_id, "practitionerId": team.practitioner.user_id, "appointmentTypeId": team.type_id, "startsAt": start})
        assert booked.status_code == 201, booked.text
        ids.append(booked.json()["id"])
    gone = team.receptionist.request("POST", team.path("appointments/%s/status" % ids[2]), json={"status": "cancelled"})
    assert gone.status_code == 200, gone.text

    loud = team.owner.request("PUT", team.path("settings/communications"), json={"channels": ["email"]})
    assert loud.status_code == 200, loud.text
    reminder = tls_sink.wait_for(team.patient["email"], lambda m: m["Subject"].startswith("Reminder"), timeout=DELIVERY_TIMEOUT)
    assert reminder["From"].addresses[0].display_name == "Harbour Clinic", reminder["From"]
    time.sleep(3)  # three more scheduler runs
    assert len(tls_sink.to(team.patient["email"])) == 1
    assert not tls_sink.to(declined["email"]) and not tls_sink.to(cancelled["email"])
    assert [m["kind"] for m in messages(team)] == ["reminder"]

    # RFC 8058 one-click, as a mail program sends it: no cookie, no Origin; e-mail stops.
    header = reminder["List-Unsubscribe"]
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header.strip("<>")
    assert link.startswith(server.base + "/unsubscribe?token=") and link in text_of(reminder)
    page = requests.get(link, verify=server.cert, timeout=30)
    assert page.status_code == 200 and "Stop appointment e-mails?" in page.text
    done = requests.post(link, data="List-Unsubscribe=One-Click", verify=server.cert, timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200, done.text
    again = team.receptionist.request("POST", team.path("appointments"), json={
        "patientId": team.patient_id, "practitionerId": team.practitioner.user_id, "appointmentTypeId": team.type_id,
        "startsAt": "2031-09-01T09:00:00Z"})
    assert again.status_code == 201, again.text
    time.sleep(2)
    assert len(tls_sink.to(team.patient["email"])) == 1, "e-mail went out after the one-click unsubscribe"


# SMS through the Twilio stand-in: a 503 is retried and the message arrives once; a number the
# provider refuses is marked failed with its code, not retried; WhatsApp goes the same way with
# whatsapp: addresses; the auth token never reaches the log.
def test_sms_and_whatsapp_through_the_provider(make_server):
    provider = TwilioStandIn().start()
    try:
        server = make_server("sqlite", env=provider.env())
        team = Team(server)
        texts = team.owner.request("PUT", team.path("settings/communications"), json={"channels": ["sms"]})
        assert texts.status_code == 200, texts.text
        patient_id, _ = team.owner.create_patient(phone="0412 555 101")
        refused_id, _ = team.owner.create_patient(phone="0400 000 999")
        provider.fail_next = 1
        for who, start in ((patient_id, "2031-08-04T09:00:00Z"), (refused_id, "2031-08-04T10:00:00Z")):
            booked = team.receptionist.request("POST", team.path("appointments"), json={
                "patientId": who, "practitionerId": team.practitioner.user_id, "appointmentTypeId": team.type_id,
                "startsAt": start, "reason": "Canary-" + canary("why")})
            assert booked.status_code == 201, booked.text

        wait_until(lambda: [m["status"] for m in messages(team, refused_id)] == ["failed"], "the refused number marked failed")
        assert "21211" in messages(team, refused_id)[0]["failureReason"]
        # The first attempt met a 503; the retry (after ten seconds) delivers it, once.
        wait_until(lambda: [m["status"] for m in messages(team, patient_id)] == ["sent"], "the retried SMS sent", timeout=30)
        sent = provider.to("+61412555101")
        assert len(sent) == 1, sent
        to, sender, body = sent[0]
        assert sender == "+61400000001" and "Monday 4 August 2031 at 09:00" in body and team.practitioner.name in body
        assert "Canary-" not in body
        assert messages(team, patient_id)[0]["channel"] == "sms"

        whatsapp = team.owner.request("PUT", team.path("settings/communications"), json={"channels": ["whatsapp"]})
        assert whatsapp.status_code == 200, whatsapp.text
        moved = team.receptionist.request("POST", team.path("appointments"), json={
            "patientId": patient_id, "practitionerId": team.practitioner.user_id, "appointmentTypeId": team.type_id,
            "startsAt": "2031-08-05T09:00:00Z"})
        assert moved.status_code == 201, moved.text
        wait_until(lambda: provider.to("whatsapp:+61412555101"), "the WhatsApp message")
        assert provider.to("whatsapp:+61412555101")[0][1] == "whatsapp:+61400000001"
        time.sleep(1.5)
        assert len(provider.to("+61412555101")) == 1 and len(provider.to("whatsapp:+61412555101")) == 1
        assert "stand-in-auth-token" not in server.output()
    finally:
        provider.stop()


# A clinic's own Twilio account (an `sms-provider` integration secret) carries its texts on a
# server with no operator account; checked when stored; another clinic whose stored token is wrong
# (the provider answers 401) keeps its text queued for another try, not failed for good; the
# token is never answered back nor logged.
def test_a_clinic_sends_texts_through_its_own_provider_account(make_server):
    provider = TwilioStandIn().start()
    own_sid, own_token = "AC" + "fedcba9876543210" * 2, "own-token-" + canary("t").lower()
    provider.accounts[own_sid] = own_token
    try:
        server = make_server("sqlite", env=provider.base_env())
        team, other = Team(server), Team(server)
        for clinic in (team, other):
            texts = clinic.owner.request("PUT", clinic.path("settings/communications"), json={"channels": ["sms"]})
            assert texts.status_code == 200, texts.text
        bad = team.owner.request("POST", team.path("integration-secrets"), json={
            "kind": "sms-provider", "label": "twilio", "value": own_sid + ":" + own_token})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "value", bad.text
        stored = team.owner.request("POST", team.path("integration-secrets"), json={
            "kind": "sms-provider", "label": "twilio", "value": "%s:%s:+61400000002" % (own_sid, own_token)})
        assert stored.status_code == 201 and own_token not in stored.text, stored.text
        wrong = other.owner.request("POST", other.path("integration-secrets"), json={
            "kind": "sms-provider", "label": "twilio", "value": "%s:not-the-token:+61400000003" % own_sid})
        assert wrong.status_code == 201, wrong.text

        ids = {}
        for clinic in (team, other):
            ids[clinic], _ = clinic.owner.create_patient(phone="0412 555 202")
            booked = clinic.receptionist.request("POST", clinic.path("appointments"), json={
                "patientId": ids[clinic], "practitionerId": clinic.practitioner.user_id, "appointmentTypeId": clinic.type_id,
                "startsAt": "2031-09-01T09:00:00Z"})
            assert booked.status_code == 201, booked.text

        wait_until(lambda: provider.to("+61412555202"), "the text through the clinic's own account")
        wait_until(lambda: (messages(other, ids[other])[0].get("failureReason") or "").endswith("401"), "the 401 recorded")
        assert provider.accepted_by == [own_sid] and provider.to("+61412555202")[0][1] == "+61400000002"
        assert [m["status"] for m in messages(team, ids[team])] == ["sent"]
        assert [m["status"] for m in messages(other, ids[other])] == ["queued"], "a wrong token is retried, not given up"
        assert own_token not in server.output()
    finally:
        provider.stop()
