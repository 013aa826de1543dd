"""Issue 8, part 7: `clinickeep security-report` checks the security promises on the running
instance, one line a check, and exits non-zero when one fails; and security.txt is served."""
import os
import re

from conftest import report_measurement

# Review round 2, part C: one line a check, "<PROMISE-ID> PASS|FAIL|INFO name: what it saw".
LINE = re.compile(r"^([A-Z]+-\d+) (PASS|FAIL|INFO) ([a-z.]+): ")


def test_security_report_passes_on_a_running_instance_and_fails_on_a_broken_one(server):
    owner = server.client()
    owner.sign_up()
    owner.create_patient()
    report = server.command("security-report", "--url", server.base)
    lines = [LINE.match(line) for line in report.stdout.splitlines() if LINE.match(line)]
    for line in lines:
        report_measurement("security-report (%s): %s" % (server.backend, line.string))
    assert report.returncode == 0, report.stdout + report.stderr
    checks = [line for line in lines if line.group(2) != "INFO"]
    assert len(checks) >= 10 and all(line.group(2) == "PASS" for line in checks), [line.string for line in lines]
    assert {"DAO-5", "PRX-8", "DAO-20", "POR-4"} <= {line.group(1) for line in lines}, [line.string for line in lines]
    assert any(line.group(2) == "INFO" and line.group(1) == "DU-11" for line in lines), [line.string for line in lines]
    text = server.get("/.well-known/security.txt")
    assert text.status_code == 200 and "Contact: mailto:security@e2e.example" in text.text
    policy = server.get("/.well-known/security-policy")
    assert policy.status_code == 200 and "24 hours" in policy.text

    # A key file anyone on the machine can read is a failed promise, named, with a non-zero exit.
    key_file = server.data / "key-encryption-key.json"
    os.chmod(key_file, 0o644)
    try:
        broken = server.command("security-report", "--url", server.base)
    finally:
        os.chmod(key_file, 0o600)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert any(line.startswith("POR-4 FAIL keys.private:") for line in broken.stdout.splitlines()), broken.stdout + broken.stderr
