"""Issue 8, part 7: `clinickeep security-report` checks DESIGN.md's security promises on the running
instance, one line a check, and exits non-zero when one fails; and security.txt is served."""
import os

from conftest import report_measurement


def test_security_report_passes_on_a_running_instance_and_fails_on_a_broken_one(server):
    owner = server.client()
    owner.sign_up()
    owner.create_patient()
    report = server.command("security-report", "--url", server.base)
    lines = [line for line in report.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    for line in lines:
        report_measurement("security-report (%s): %s" % (server.backend, line))
    assert report.returncode == 0, report.stdout + report.stderr
    assert len(lines) >= 10 and all(line.startswith("PASS") for line in lines), lines
    text = server.get("/.well-known/security.txt")
    assert text.status_code == 200 and "Contact:" in text.text

    # A key file anyone on the machine can read is a failed promise, named, with a non-zero exit.
    key_file = server.data / "key-encryption-key.json"
    os.chmod(key_file, 0o644)
    try:
        broken = server.command("security-report", "--url", server.base)
    finally:
        os.chmod(key_file, 0o600)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert any(line.startswith("FAIL  keys.private") for line in broken.stdout.splitlines()), broken.stdout + broken.stderr
