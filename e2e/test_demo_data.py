"""`clinickeep demo` fills a database with synthetic clinics that behave like real ones."""
import datetime
import io
import pathlib
import re
import secrets
import sqlite3

import pandas
from selenium.webdriver.common.by import By

from conftest import postgres_env, psql, report_measurement, run_psql
from test_attack_browser import WatchedBrowser

SCREENSHOTS = pathlib.Path(__file__).parent / "screenshots"


# Issue 7: `clinickeep demo --clinics N --patients M` with a progress line per clinic; the result
# signs in, lists its patients and diary, and its audit ledger verifies
def test_the_demo_command_fills_clinics_that_sign_in_and_verify(server):
    result = server.command("demo", "--clinics", "2", "--patients", "25")
    assert result.returncode == 0, result.stderr
    assert "clinic 1/2: 25/25 patients" in result.stdout and "clinic 2/2: 25/25 patients" in result.stdout, result.stdout
    password = re.search(r"every account's password is (\S+)", result.stdout).group(1)
    owners = re.findall(r"owner (\S+@\S+)", result.stdout)
    assert len(owners) == 2, result.stdout
    owner = server.client()
    owner.email, owner.password = owners[0], password
    owner.log_in()
    clinic_id = owner.request("GET", "/api/v1/me").json()["memberships"][0]["clinicId"]
    patients = owner.request("GET", "/api/v1/clinics/%s/patients?limit=200" % clinic_id)
    assert len(patients.json()["patients"]) == 25, patients.text
    diary = owner.request("GET", "/api/v1/clinics/%s/appointments?limit=500" % clinic_id)
    assert len(diary.json()["appointments"]) >= 20, diary.text
    notes = owner.request("GET", "/api/v1/clinics/%s/consultations?limit=200" % clinic_id)
    assert notes.status_code == 200 and all(n["status"] == "signed" for n in notes.json()["consultations"]), notes.text
    products = owner.request("GET", "/api/v1/clinics/%s/products" % clinic_id).json()["products"]
    assert len(products) == 3 and all(p["stock"] > 0 for p in products), products
    referrers = owner.request("GET", "/api/v1/clinics/%s/contacts?kind=referrer" % clinic_id).json()["contacts"]
    assert len(referrers) == 2 and all(r["name"].startswith("Dr ") and r.get("providerNumber") for r in referrers), referrers
    # Each signed visit was billed: an issued invoice with the practitioner's provider number, most of them paid.
    invoices = owner.request("GET", "/api/v1/clinics/%s/invoices?limit=500" % clinic_id).json()["invoices"]
    signed = len(notes.json()["consultations"])
    assert len(invoices) == signed and all(i["status"] in ("issued", "paid") and i["number"] and i.get("providerNumber") for i in invoices), invoices
    assert sorted(i["number"] for i in invoices) == list(range(1, signed + 1))
    # The reports page over the demo clinic, in headless Chromium: the charts draw (each SVG has
    # a size and marks in it), nothing breaks the CSP, and a screenshot goes in the run's summary.
    browser = WatchedBrowser(server, owner)
    try:
        browser.sign_in()
        browser.driver.get_log("browser")
        browser.open("/clinics/%s/reports" % clinic_id)
        charts = browser.driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) >= 3 and all(chart.size["height"] > 0 and chart.size["width"] > 0 for chart in charts), browser.text()
        assert browser.driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.chart-attended, svg.chart circle.chart-point")
        assert not browser.violations()
        SCREENSHOTS.mkdir(exist_ok=True)
        shot = SCREENSHOTS / ("reports-page-%s.png" % server.backend)
        browser.driver.save_screenshot(str(shot))
        report_measurement("reports page (%s): %d charts drawn, no CSP violation; screenshot %s (%d KiB)"
                           % (server.backend, len(charts), shot, shot.stat().st_size // 1024))
        # The diary as a time grid at a tablet's width: a column per practitioner, the day's
        # bookings as blocks (today's demo bookings run 09:00 to 16:30), nothing against the CSP.
        browser.driver.set_window_size(1024, 1366)
        browser.open("/clinics/%s/calendar" % clinic_id)
        columns = browser.driver.find_elements(By.CSS_SELECTOR, "table.diary-grid thead th[scope=col]")
        blocks = browser.driver.find_elements(By.CSS_SELECTOR, "table.diary-grid td.grid-booking")
        assert len(columns) == 3, browser.text()
        assert all(block.size["height"] > 20 for block in blocks), [block.size for block in blocks]
        assert not browser.violations()
        diary = SCREENSHOTS / ("diary-page-%s.png" % server.backend)
        browser.driver.save_screenshot(str(diary))
        report_measurement("diary grid (%s): %d practitioners, %d bookings drawn as blocks; screenshot %s"
                           % (server.backend, len(columns) - 1, len(blocks), diary))
    finally:
        browser.driver.quit()

    check_analytics_export(server, owner, clinic_id, patients.json()["patients"])
    if server.backend == "postgres":
        other_owner = server.client()
        other_owner.email, other_owner.password = owners[1], password
        other_owner.log_in()
        check_reporting_roles(server, clinic_id, other_owner.request("GET", "/api/v1/me").json()["memberships"][0]["clinicId"])

    verified = server.command("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


QUASI_IDENTIFIERS = ["ageBand", "sex", "region"]


# Issue 27: the figures are read from daily sums the server keeps beside every booking and
# invoice; when the rows change behind its back (here the sums themselves are wiped, as an edit
# in SQL or a partial restore could), `clinickeep figures rebuild` cuts them again from the rows
def test_figures_rebuild_cuts_the_daily_sums_again_from_the_rows(server):
    result = server.command("demo", "--clinics", "1", "--patients", "10")
    assert result.returncode == 0, result.stderr
    owner = server.client()
    owner.email = re.search(r"owner (\S+@\S+)", result.stdout).group(1)
    owner.password = re.search(r"every account's password is (\S+)", result.stdout).group(1)
    owner.log_in()
    clinic_id = owner.request("GET", "/api/v1/me").json()["memberships"][0]["clinicId"]
    today = datetime.date.today()
    period = "from=%s&to=%s" % (today - datetime.timedelta(days=300), today + datetime.timedelta(days=60))

    def figures():
        answer = owner.request("GET", "/api/v1/clinics/%s/kpis?%s" % (clinic_id, period))
        assert answer.status_code == 200, answer.text
        return answer.json()["appointments"]["booked"], answer.json()["revenue"]["invoicedCents"]

    booked, invoiced = figures()
    assert booked > 0 and invoiced > 0
    wipe = ["DELETE FROM appointment_days", "DELETE FROM revenue_days"]
    if server.backend == "sqlite":
        db = sqlite3.connect(str(server.data / "clinickeep.sqlite"), timeout=30)
        for statement in wipe:
            db.execute(statement)
        db.commit()
        db.close()
    else:
        psql(postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"], "; ".join(wipe))
    assert figures() == (0, 0)

    rebuilt = server.command("figures", "rebuild", "--all")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "figures: clinic 1/1 %s rebuilt" % clinic_id in rebuilt.stdout, rebuilt.stdout
    assert figures() == (booked, invoiced)
    refused = server.command("figures", "rebuild")
    assert refused.returncode == 2 and "--clinic ID or --all" in refused.stderr + refused.stdout


def check_analytics_export(server, owner, clinic_id, patients):
    """POR-11, checked independently of the server's own rule: pandas groups the rows of the
    owner's export and of the command's, and every description is shared by 5 patients or more;
    nothing a patient could be named by is in either; the two exports share no pseudonym."""
    answer = owner.request("GET", "/api/v1/clinics/%s/analytics/export" % clinic_id)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv"), answer.text
    out = server.data / "visits.csv"
    written = server.command("analytics", "export", "--clinic", clinic_id, "--out", str(out))
    assert written.returncode == 0 and "visits of" in written.stdout, written.stdout + written.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    exports = [answer.text, out.read_text()]
    personal = [value for patient in patients for key, value in patient.items()
                if key in ("givenName", "familyName", "birthDate", "phone", "email", "address", "medicareNumber", "id") and value]
    for text in exports:
        frame = pandas.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        assert list(frame.columns) == ["patient", "ageBand", "sex", "region", "month", "appointmentType", "practitioner",
                                       "outcome", "invoiced"], frame.columns
        assert len(frame) > 0
        group_sizes = frame.groupby(QUASI_IDENTIFIERS)["patient"].nunique()
        assert (group_sizes >= 5).all(), group_sizes
        assert frame["month"].str.fullmatch(r"\d{4}-\d{2}").all() and set(frame["outcome"]) <= {"attended", "no-show"}
        # No cell is a personal value, and no longer one (an address, a number, an e-mail) is in
        # the text at all; a short name may be part of a type's name by chance.
        cells = set(frame.to_numpy().ravel())
        leaked = [value for value in personal if value in cells or (len(value) >= 8 and value in text)]
        assert not leaked, leaked
    first, second = (set(pandas.read_csv(io.StringIO(text), dtype=str)["patient"]) for text in exports)
    assert first.isdisjoint(second)
    report_measurement("analytics export (%s): %d visits of %d patients, every description shared by >= 5 (pandas); %s"
                       % (server.backend, len(frame), frame["patient"].nunique(), written.stdout.strip()))


def check_reporting_roles(server, clinic_id, other_clinic_id):
    """POR-11 for BI tools: a PostgreSQL role granted one clinic reads that clinic's pseudonymised
    visits (every description shared by 5 or more, checked by pandas), and nothing else: not the
    application's tables, not the table granted to another role for another clinic."""
    super_url = postgres_env()["CLINICKEEP_E2E_POSTGRES_SUPER_URL"]
    tag = secrets.token_hex(4)
    roles = ["bi_a_" + tag, "bi_b_" + tag]
    password = secrets.token_hex(12)
    try:
        for role in roles:
            psql(super_url, "CREATE ROLE %s LOGIN PASSWORD '%s'" % (role, password))
        refused = server.command("reporting", "grant", "--role", "postgres", "--clinic", clinic_id)
        assert refused.returncode == 2 and "superuser" in refused.stderr, refused.stdout + refused.stderr
        for role, clinic in zip(roles, (clinic_id, other_clinic_id)):
            granted = server.command("reporting", "grant", "--role", role, "--clinic", clinic)
            assert granted.returncode == 0 and "refreshed hourly" in granted.stdout, granted.stdout + granted.stderr
        # What serve does hourly, now: each clinic's grants read in its own realm.
        refreshed = server.command("reporting", "refresh")
        assert refreshed.returncode == 0 and "2 reporting tables refreshed" in refreshed.stdout, refreshed.stdout + refreshed.stderr
        tables = ["reporting.v_%s_%s" % (clinic.replace("-", ""), role) for role, clinic in zip(roles, (clinic_id, other_clinic_id))]
        role_url = re.sub(r"//[^@]*@", "//%s:%s@" % (roles[0], password), super_url)
        rows = run_psql(role_url, "COPY (SELECT * FROM %s) TO STDOUT WITH CSV HEADER" % tables[0])
        assert rows.returncode == 0, rows.stderr
        # Finished months only (the demo's visits run two weeks back, so late in a month there may
        # be none yet): whatever is there holds the k rule; the export above proves it with rows.
        frame = pandas.read_csv(io.StringIO(rows.stdout), dtype=str, keep_default_na=False)
        assert list(frame.columns) == ["patient", "age_band", "sex", "region", "month", "appointment_type", "practitioner",
                                       "outcome", "invoiced"], frame.columns
        assert (frame.groupby(["age_band", "sex", "region"])["patient"].nunique() >= 5).all(), frame
        for forbidden in ("SELECT count(*) FROM public.patients", "SELECT count(*) FROM public.appointments",
                          "SELECT count(*) FROM public.audit_events", "SELECT count(*) FROM public.reporting_grants",
                          "SELECT count(*) FROM %s" % tables[1]):
            denied = run_psql(role_url, forbidden)
            assert denied.returncode != 0 and "permission denied" in denied.stderr, (forbidden, denied.stdout, denied.stderr)
        report_measurement("reporting role (postgres): %d pseudonymised visits readable by %s; patients, the ledger and the other "
                           "clinic's table refused" % (len(frame), roles[0]))
    finally:
        for role in roles:
            run_psql(super_url, "DROP OWNED BY %s; DROP ROLE IF EXISTS %s" % (role, role))


# Bad input to the command is a clear message and exit 2, never a crash
def test_the_demo_command_refuses_absurd_sizes(sqlite_server):
    result = sqlite_server.command("demo", "--clinics", "0")
    assert result.returncode == 2 and "--clinics" in result.stderr, result.stderr


# Issue 9: bench/run fills its clinics with `--patients-only`: patients and nothing else, still audited
def test_patients_only_demo_data_has_patients_and_no_diary(sqlite_server):
    result = sqlite_server.command("demo", "--clinics", "1", "--patients", "30", "--patients-only")
    assert result.returncode == 0, result.stderr
    password = re.search(r"every account's password is (\S+)", result.stdout).group(1)
    owner = sqlite_server.client()
    owner.email, owner.password = re.search(r"owner (\S+@\S+)", result.stdout).group(1), password
    owner.log_in()
    clinic_id = owner.request("GET", "/api/v1/me").json()["memberships"][0]["clinicId"]
    patients = owner.request("GET", "/api/v1/clinics/%s/patients?limit=200" % clinic_id)
    assert len(patients.json()["patients"]) == 30, patients.text
    diary = owner.request("GET", "/api/v1/clinics/%s/appointments?limit=500" % clinic_id)
    assert diary.json()["appointments"] == [], diary.text
    verified = sqlite_server.command("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
