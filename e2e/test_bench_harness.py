"""bench/run's driver against the built server, small and short, so the benchmark cannot rot.

Issue 9: every workload of bench/http_load.py (W0-W6, issue 22's W0′, a bare Vapor /healthz, and
issue 27's W7, the practice's figures over a year of written history) runs through wrk and bench/wrk/clinic.lua
against the real server and answers without a single error; a workload whose requests were
refused (a lost CSRF header, a wrong path) would count errors here before it skewed a real run.
The figures of a debug build mean nothing and are not checked.
"""
import json
import os
import shutil
import subprocess
import sys

from conftest import BIN, REPO


def test_every_benchmark_workload_runs_without_an_error(tmp_path):
    assert shutil.which("wrk"), "wrk is needed (apt-get install wrk; .ci/run installs it)"
    out = tmp_path / "http.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "http_load.py"), "--bin-dir", os.path.dirname(BIN),
         "--databases", "sqlite", "--sizes", "60,120", "--seconds", "1", "--bcrypt-seconds", "1", "--bcrypt-cost", "10",
         "--kpi-appointments", "600", "--kpi-invoices", "200", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    figures = result["databases"][0]["figures"]
    seen = {(row["workload"], row["kind"], row["connections"], row["patients"]) for row in figures}
    expected = {("W0", "healthz", 32, 60), ("W0'", "healthz", 32, 60), ("W1", "read", 32, 60), ("W2", "phone", 32, 60), ("W2", "phone", 32, 120),
                ("W3", "name", 32, 60), ("W3", "name", 32, 120), ("W4", "create", 32, 60), ("W5", "signin", 8, 60),
                ("W6", "mixed", 8, 60), ("W6", "mixed", 32, 60), ("W7", "kpis", 8, 60)}
    assert seen == expected, seen
    for row in figures:
        assert row["requests"] > 0 and row["errors"] == 0, row
        assert row["peakRssMiB"] > 0, row
    ratios = result["databases"][0]["ratios"]
    assert {"W0/W0'", "W1/W0", "W4/W0", "W5/bcrypt", "W7/W0", "W2@120/W2@60 slowdown", "W3@120/W3@60 slowdown", "reencrypt rows/W4"} <= set(ratios), ratios
    # Issue 5: the largest clinic re-encrypted under load, not one error meanwhile (the harness itself
    # fails when a value is left under the old version). Rows the load changed meanwhile were
    # re-sealed by the change itself, so the job moves the rest.
    rekey = result["databases"][0]["reencryption"]
    assert rekey["patients"] == 120 and 0 < rekey["rowsResealed"] <= 120 and rekey["sealedValues"] >= 120 * 2, rekey
    assert rekey["loadRequests"] > 0 and rekey["loadErrors"] == 0, rekey
    # Issue 27's W7: the history it asks the KPIs of was written whole, into the smallest clinic.
    history = result["databases"][0]["history"]
    assert (history["appointments"], history["invoices"]) == (600, 200) and 0 < history["payments"] <= 200, history
    assert "W1 read" in done.stdout and "W1/W0" in done.stdout, done.stdout[-2000:]
