"""Issue 8, part 3: schemathesis fuzzes every operation of /api/v1/openapi.json on the real server,
signed in as a clinic's owner with the clinic's real ids, and fails on any 5xx, any status,
media type, header or body the document does not describe (errors included: each is declared
with the API's error shape), and any undeclared method not answered 405."""
import os
import subprocess
import sys
from pathlib import Path

from attack_target import build_clinic
from conftest import report_measurement

EXAMPLES = os.environ.get("CLINICKEEP_E2E_FUZZ_EXAMPLES", "15")
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
          "response_schema_conformance", "unsupported_method"]
# Operations that would end or lock the fuzzer's own session, or the clinic, rather than test
# anything: signing out, ending sessions, password and second-factor changes (each wrong password
# counts towards the lockout), the sign-in policy (requiring MFA of owners), deleting the clinic.
EXCLUDED = r"/auth/logout|/me/(sessions|password|totp|recovery)|/security$|^/api/v1/clinics/\{clinicId\}$"


def test_schemathesis_finds_nothing_the_document_does_not_allow(server, tmp_path):
    clinic = build_clinic(server, "A")
    config = tmp_path / "schemathesis.toml"
    lines = ["[parameters]"]
    for name, value in clinic.ids.items():
        lines += ['"path.%s" = "%s"' % (name, value), '"query.%s" = "%s"' % (name, value)]
    config.write_text("\n".join(lines) + "\n")
    owner = clinic.owner
    st = str(Path(sys.executable).parent / "st")
    result = subprocess.run(
        [st, "--config-file", str(config), "--no-color", "run", server.base + "/api/v1/openapi.json",
         "--checks", ",".join(CHECKS), "--tls-verify", server.cert, "--workers", "1", "--max-examples", EXAMPLES,
         "--exclude-path-regex", EXCLUDED, "--request-timeout", "30",
         "-H", "Cookie: __Host-clinickeep-session=%s" % owner.cookie, "-H", "X-CSRF-Token: %s" % owner.csrf],
        capture_output=True, text=True, timeout=1500, stdin=subprocess.DEVNULL, cwd=tmp_path)
    # The findings' headings and the summary; never whole request bodies (they can be megabytes).
    keep = [line[:200] for line in result.stdout.splitlines()
            if line.startswith(("____", "- ST", "    Received", "    Documented", "    Unsupported", "  ❌", "  ✅", "  ⏭",
                                "  Selected", "  Tested", "Seed", "Test cases", "  ", "=")) and "curl" not in line]
    summary = [line for line in keep if "generated" in line or line.startswith("=")]
    report_measurement("schemathesis (%s): %s examples per operation, checks %s: %s" % (
        server.backend, EXAMPLES, ",".join(CHECKS), (summary[-1] if summary else "no summary").strip("= ")))
    assert result.returncode == 0, "schemathesis found problems:\n" + "\n".join(keep[-120:]) + "\n" + result.stderr[-2000:]
    assert "generated" in result.stdout, result.stdout[-2000:]
