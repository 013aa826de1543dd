"""Issue 5: integrations reach the API with tokens ClinicKeep issues, stores only as hashes,
scopes to roles and one clinic, and can revoke; driven from outside with no cookie at all."""
import hashlib

import requests

from conftest import psql, postgres_env


def bearer_request(server, method, path, token, json=None):
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, server.base + path, json=json, verify=server.cert, timeout=30,
                               headers={"Authorization": "Bearer " + token, "Connection": "close"})


# POR-3: API keys stored hashed; POR-10: never in a log
def test_an_integration_works_with_its_token_alone_and_stops_when_revoked(server):
    owner = server.client()
    owner.sign_up()
    patient, _ = owner.create_patient()
    tokens = "/api/v1/clinics/%s/api-tokens" % owner.clinic_id
    issued = owner.request("POST", tokens, json={"label": "Accounting sync", "roles": ["bookkeeper"], "expiresInDays": 30})
    assert issued.status_code == 201, issued.text
    assert issued.headers.get("Cache-Control") == "no-store"
    token = issued.json()["token"]

    assert bearer_request(server, "GET", owner.patient_path(patient), token).status_code == 200
    denied = bearer_request(server, "POST", owner.patients_path(), token, json={"givenName": "A", "familyName": "B"})
    assert denied.status_code == 403 and denied.json()["error"]["code"]
    assert bearer_request(server, "GET", "/api/v1/me", token).status_code == 401
    other = server.client()
    other.sign_up()
    assert bearer_request(server, "GET", other.patients_path(), token).status_code == 404

    listed = owner.request("GET", tokens)
    assert token not in listed.text and listed.json()["apiTokens"][0]["lastUsedAt"]
    if server.backend == "sqlite":
        stored = b"".join(path.read_bytes() for path in server.data.glob("clinickeep.sqlite*"))
        assert token.encode() not in stored and hashlib.sha256(token.encode()).digest() in stored
    else:
        # As the superuser: api_tokens is under row-level security, for the owner too (review round 2, A9).
        hashes = psql(postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"], "SELECT encode(token_hash, 'hex') FROM api_tokens")
        assert hashlib.sha256(token.encode()).hexdigest() in hashes and token not in hashes

    revoked = owner.request("DELETE", tokens + "/" + issued.json()["id"])
    assert revoked.status_code == 204
    dead = bearer_request(server, "GET", owner.patient_path(patient), token)
    assert dead.status_code == 401 and dead.json()["error"]["code"] == "invalid_token"
    assert token not in server.output() and token[4:] not in server.output()
