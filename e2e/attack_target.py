"""The attack suite's target: a real server with two synthetic clinics, each holding one of every
kind of record, every personal value a distinctive canary. The probes aim one clinic's people and
token at the other's ids and look for the other's canaries in everything that comes back."""
import re
from dataclasses import dataclass, field

import requests

from conftest import canary


@dataclass
class ClinicFixture:
    name: str
    owner: object
    members: dict                      # role -> Client
    token: str                         # an integration token (receptionist)
    ids: dict                          # path/body parameter name -> this clinic's id
    canaries: list = field(default_factory=list)

    def sessions(self):
        """Every way into the clinic: each role's session, then the integration token."""
        yield "owner", self.owner
        for role, client in self.members.items():
            yield role, client
        yield "api-token", self.token


def _created(response, what):
    assert response.status_code == 201, "%s: %s %s" % (what, response.status_code, response.text)
    return response.json()


def build_clinic(server, name):
    """Signs a clinic up and fills it through the API as its staff would."""
    owner = server.client()
    owner.sign_up()
    base = "/api/v1/clinics/%s" % owner.clinic_id
    members = {}
    for role in ("admin", "practitioner", "receptionist", "bookkeeper"):
        members[role] = owner.invite([role]).log_in()
    practitioner = members["practitioner"]
    patient_id, fields = owner.create_patient()
    phone_digits = re.sub(r"\D", "", fields["phone"])
    canaries = [fields["givenName"], fields["familyName"], fields["email"], fields["address"], fields["medicareNumber"],
                fields["phone"], phone_digits, "+61" + phone_digits[1:], owner.email, owner.name, owner.password]
    for member in members.values():
        canaries += [member.email, member.name, member.password]

    type_id = _created(owner.request("POST", base + "/appointment-types",
                                     json={"name": "Consult " + canary("Ty"), "durationMinutes": 30}), "appointment type")["id"]
    reason = "Reason " + canary("Rs")
    appointment_id = _created(owner.request("POST", base + "/appointments", json={
        "patientId": patient_id, "practitionerId": practitioner.user_id, "appointmentTypeId": type_id,
        "startsAt": "2031-05-06T09:00:00Z", "reason": reason}), "appointment")["id"]
    note = {"subjective": "Subjective " + canary("Sj"), "plan": "Plan " + canary("Pl")}
    consultation_id = _created(practitioner.request("POST", base + "/consultations",
                                                    json={"patientId": patient_id, "appointmentId": appointment_id, **note}),
                               "consultation")["id"]
    signed = practitioner.request("POST", base + "/consultations/%s/sign" % consultation_id)
    assert signed.status_code == 200, signed.text
    formula_name = "Formula " + canary("Fo")
    formula_id = _created(practitioner.request("POST", base + "/formulas", json={
        "name": formula_name, "instructions": "Decoct", "herbs": [{"herb": "Huang Qi", "grams": 12}]}), "formula")["id"]
    prescription_id = _created(practitioner.request("POST", base + "/prescriptions",
                                                    json={"patientId": patient_id, "formulaId": formula_id}), "prescription")["id"]
    file_text = "Referral " + canary("Fl")
    file_name = "letter-%s.txt" % canary("Fn")
    file_id = _created(owner.request("POST", base + "/patients/%s/files?name=%s" % (patient_id, file_name),
                                     data=(file_text + "\n").encode(), headers={"Content-Type": "application/octet-stream"}),
                       "file")["id"]
    secret_value = "sk_live_" + canary("Sk")
    secret_id = _created(owner.request("POST", base + "/integration-secrets", json={
        "kind": "integration-key", "label": "Lab", "value": secret_value}), "integration secret")["id"]
    issued = _created(owner.request("POST", base + "/api-tokens", json={"label": "Widget", "roles": ["receptionist"]}), "api token")
    contact = {"kind": "referrer", "name": "Dr " + canary("Ct"), "notes": "Notes " + canary("Cn"),
               "providerNumber": canary("Pv").upper()}
    contact_id = _created(owner.request("POST", base + "/contacts", json=contact), "contact")["id"]
    product_name = "Product " + canary("Pd")
    product_id = _created(owner.request("POST", base + "/products", json={"name": product_name, "priceCents": 1200}), "product")["id"]
    bill = {"patientId": patient_id, "appointmentId": appointment_id, "notes": "Billing " + canary("Bn"),
            "lines": [{"appointmentTypeId": type_id, "unitCents": 9500}, {"productId": product_id, "quantity": 2},
                      {"description": "Item " + canary("Bl"), "unitCents": 3300, "gstApplies": True}]}
    invoice_id = _created(owner.request("POST", base + "/invoices", json=bill), "invoice")["id"]
    invitee = "%s@%s.example" % (canary("iv").lower(), canary("d").lower())
    invitation_id = _created(owner.request("POST", base + "/staff", json={"email": invitee, "name": "Invited " + canary("In"),
                                                                           "roles": ["receptionist"]}), "pending invitation")["id"]
    support_reason = "Support " + canary("Sr")
    asked = server.command("support-access", "request", "--clinic", owner.clinic_id, "--hours", "1", "--reason", support_reason,
                           "--operator", "Operator " + canary("Op"))
    assert asked.returncode == 0, asked.stdout + asked.stderr
    request_id = re.search(r"requested: ([0-9a-f-]{36})", asked.stdout).group(1)
    settled_id = _created(owner.request("POST", base + "/invoices", json=bill), "second invoice")["id"]
    assert owner.request("POST", base + "/invoices/%s/issue" % settled_id).status_code == 200
    receipt = "Receipt " + canary("Rc")
    _created(owner.request("POST", base + "/invoices/%s/payments" % settled_id, json={"amountCents": 100, "method": "card", "reference": receipt}),
             "payment")
    canaries += [reason, note["subjective"], note["plan"], formula_name, file_text, file_name, secret_value, issued["token"],
                 contact["name"], contact["notes"], contact["providerNumber"], product_name, bill["notes"], bill["lines"][2]["description"],
                 receipt, invitee, support_reason]
    ids = {"clinicId": owner.clinic_id, "confirmClinicId": owner.clinic_id, "patientId": patient_id, "typeId": type_id,
           "appointmentTypeId": type_id, "appointmentId": appointment_id, "consultationId": consultation_id,
           "formulaId": formula_id, "prescriptionId": prescription_id, "fileId": file_id, "secretId": secret_id,
           "tokenId": issued["id"], "userId": practitioner.user_id, "practitionerId": practitioner.user_id,
           "contactId": contact_id, "productId": product_id, "invoiceId": invoice_id,
           "invitationId": invitation_id, "requestId": request_id}
    return ClinicFixture(name=name, owner=owner, members=members, token=issued["token"], ids=ids, canaries=canaries)


def send(server, who, method, path, json=None, data=None, headers=None, http=None):
    """One request as `who` (a Client, or an API token string), on a kept-alive connection."""
    all_headers = dict(headers or {})
    if isinstance(who, str):
        all_headers["Authorization"] = "Bearer " + who
    else:
        all_headers["Cookie"] = "__Host-clinickeep-session=%s" % who.cookie
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            all_headers["X-CSRF-Token"] = who.csrf
    session = http or requests.Session()
    session.trust_env = False
    return session.request(method, server.base + path, json=json, data=data, headers=all_headers, verify=server.cert,
                           timeout=30, allow_redirects=False)
