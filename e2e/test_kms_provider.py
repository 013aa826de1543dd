"""Issue 5: the AWS KMS key provider, against a real local KMS-compatible server (moto's server
mode from PyPI, started here with authentication on, so it checks every request's Signature
Version 4 against the credentials it issued). The key-encryption key never leaves KMS."""
import json
import os
import subprocess
import time

import pytest
import requests

from conftest import BIN, free_port

MOTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv", "bin", "moto_server")
REGION = "ap-southeast-2"


class LocalKMS:
    def __init__(self):
        import boto3
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        # The first three calls (making the IAM user, its key and its policy) go unchecked; every later one is authenticated.
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        self.process = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(self.port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.endpoint + "/moto-api/", timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=self.endpoint, aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="clinickeep")
        key = iam.create_access_key(UserName="clinickeep")["AccessKey"]
        iam.put_user_policy(UserName="clinickeep", PolicyName="kms", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
        self.access_key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.kms = boto3.client("kms", region_name=REGION, endpoint_url=self.endpoint,
                                aws_access_key_id=self.access_key, aws_secret_access_key=self.secret)

    def new_key(self):
        return self.kms.create_key(Description="clinickeep test")["KeyMetadata"]["Arn"]

    def env(self, key_id, secret=None):
        return {"CLINICKEEP_KEY_PROVIDER": "aws-kms", "CLINICKEEP_KMS_KEY_ID": key_id, "CLINICKEEP_KMS_REGION": REGION,
                "CLINICKEEP_KMS_ENDPOINT": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": secret or self.secret}

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def kms():
    local = LocalKMS()
    yield local
    local.stop()


def root_key_ids(server):
    return {json.loads(p.read_text())["kekId"] for p in (server.data / "keystore").glob("*.json")}


# DAO-9, POR-4, POR-5: keys held by a KMS (which logs each use), rotated by rewrap
def test_kms_wraps_every_key_and_a_rewrap_to_a_new_kms_key_survives_a_restart(make_server, kms, backend):
    first, second = kms.new_key(), kms.new_key()
    server = make_server(backend, env=kms.env(first))
    assert not (server.data / "key-encryption-key.json").exists(), "no key file when KMS holds the key"
    owner = server.client().sign_up()
    patient, fields = owner.create_patient()
    assert root_key_ids(server) == {first}

    # Only configured keys are ever asked to decrypt: the old one is named while the rewrap moves keys off it.
    server.env.update(kms.env(second))
    server.env["CLINICKEEP_KMS_PREVIOUS_KEY_IDS"] = first
    rewrapped = server.command("keys", "rewrap")
    assert rewrapped.returncode == 0, rewrapped.stdout + rewrapped.stderr
    assert "nothing is wrapped by %s any more" % first in rewrapped.stdout, rewrapped.stdout
    assert root_key_ids(server) == {second}

    # The old KMS key disabled, then a restart: nothing needs the old key any more.
    del server.env["CLINICKEEP_KMS_PREVIOUS_KEY_IDS"]
    kms.kms.disable_key(KeyId=first.split("/")[-1])
    server.stop()
    server.reset_database = False
    server.start()
    owner.log_in()
    assert owner.request("GET", owner.patient_path(patient)).json()["familyName"] == fields["familyName"]
    newcomer = server.client().sign_up()
    assert newcomer.create_patient()[0]
    verified = server.command("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert kms.secret not in server.output() + rewrapped.stdout + rewrapped.stderr


def test_wrong_kms_credentials_are_a_clear_error_that_names_no_secret(kms, tmp_path):
    # The secret is checked by KMS itself: a request signed with a wrong one is refused (403).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICKEEP_") and k != "DATABASE_URL"}
    env.update(kms.env(kms.new_key(), secret="not-the-secret-0123456789"))
    result = subprocess.run([BIN, "migrate", "--data-dir", str(tmp_path / "data")], env=env, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "KMS" in result.stderr and "403" in result.stderr, result.stderr
    assert "not-the-secret" not in result.stdout + result.stderr
