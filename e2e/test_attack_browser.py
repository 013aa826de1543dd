"""Issue 8, part 5: sessions and pages attacked in a real headless Chromium. No page breaks the
Content-Security-Policy, a form posted without its CSRF token is refused, the session cookie is a
Secure HttpOnly SameSite=Strict `__Host-` cookie, a session id planted before sign-in is not the
one after it, and the back button after signing out shows nothing of what was on screen."""
from selenium.webdriver.common.by import By

from attack_target import build_clinic
from conftest import canary, report_measurement
from test_browser_walkthrough import Browser

SESSION = "__Host-clinickeep-session"


def pages(ids):
    clinic = "/clinics/%s" % ids["clinicId"]
    patient = clinic + "/patients/%s" % ids["patientId"]
    return ["/login", "/forgot-password", "/me", "/me/sessions", "/me/two-step",
            clinic + "/patients", clinic + "/patients/new", patient, patient + "/chart", patient + "/consultations/new",
            patient + "/prescriptions/new", clinic + "/consultations/%s" % ids["consultationId"],
            clinic + "/prescriptions/%s/print" % ids["prescriptionId"], clinic + "/calendar?date=2031-05-06", clinic + "/audit",
            clinic + "/invoices", clinic + "/invoices/%s" % ids["invoiceId"], patient + "/invoices/new", clinic + "/staff", clinic + "/today",
            clinic + "/practitioners/%s/hours" % ids["practitionerId"], clinic + "/calendar/week?date=2031-05-06",
            clinic + "/reports?from=2031-05-01&to=2031-06-01", clinic + "/settings/communications",
            "/invitations/accept?token=unknown", "/unsubscribe?token=unknown"]


class WatchedBrowser(Browser):
    """A Browser whose console is read: Chromium reports every CSP violation there."""

    def violations(self):
        return [entry["message"] for entry in self.driver.get_log("browser")
                if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


def session_cookie(browser):
    return next((c for c in browser.driver.get_cookies() if c["name"] == SESSION), None)


# DC-14, DC-15, DC-7, DC-10: CSP, CSRF, cookie attributes, fixation, no-store
def test_pages_hold_against_csp_csrf_fixation_and_the_back_button(server):
    clinic = build_clinic(server, "A")
    owner = clinic.owner
    browser = WatchedBrowser(server, owner)
    try:
        # Fixation: a session id planted in the browser before sign-in is not used after it.
        browser.open("/login")
        planted = "A" * 43
        browser.driver.add_cookie({"name": SESSION, "value": planted, "path": "/", "secure": True})
        browser.sign_in()
        cookie = session_cookie(browser)
        assert cookie and cookie["value"] != planted, cookie
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert cookie["path"] == "/" and not cookie["domain"].startswith("."), cookie

        # CSP: every page, console read after each.
        browser.driver.get_log("browser")
        broken = {}
        visited = pages(clinic.ids)
        for path in visited:
            browser.open(path)
            found = browser.violations()
            if found:
                broken[path] = found[:2]
        report_measurement("browser (%s): %d pages visited, %d with a CSP violation" % (server.backend, len(visited), len(broken)))
        assert not broken, broken

        # CSRF: the new-patient form with its token taken out is refused, and nothing is created.
        family = canary("Csrf")
        browser.open("/clinics/%s/patients/new" % owner.clinic_id)
        browser.fill("givenName", "Eve")
        browser.fill("familyName", family)
        removed = browser.driver.execute_script(
            "var f = document.querySelector(\"[name='familyName']\").form.querySelector(\"[name='csrfToken']\");"
            " if (!f) return false; f.remove(); return true;")
        assert removed, "the form has no csrfToken field"
        browser.press("Save")
        assert family not in browser.text()
        listed = owner.request("GET", owner.patients_path() + "?q=" + family.lower())
        assert listed.status_code == 200 and listed.json()["patients"] == [], listed.text

        # no-store: after signing out, Back shows the sign-in page, not the chart.
        patient_name = clinic.canaries[1]
        browser.open("/clinics/%s/patients/%s" % (owner.clinic_id, clinic.ids["patientId"]))
        assert patient_name in browser.text()
        browser.press("Sign out")
        browser.driver.back()
        shown = browser.driver.find_element(By.TAG_NAME, "body").text
        assert patient_name not in shown and patient_name not in browser.driver.page_source, shown[:500]
        assert session_cookie(browser) is None or session_cookie(browser)["value"] != cookie["value"]
    finally:
        browser.close()
