"""The clinic's day in a real headless Chromium (Debian's chromium and chromedriver, driven by
Selenium): people sign in on the login page and use the staff pages with their own hands, with
a screenshot of each page kept for the test output. The owner invites the staff on the staff
page; each joins on the invitation page."""
import os
import shutil
import tempfile
from pathlib import Path

import pyotp
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import canary, password

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = Path(os.environ.get("CLINICKEEP_E2E_SCREENSHOTS") or tempfile.gettempdir() + "/clinickeep-e2e-screenshots")


def replaced(element):
    """A wait condition: `element`'s page has gone. Mid-navigation Chromium may answer a question
    about the old node with "does not belong to the document" instead of a stale reference (seen
    in CI); both mean the same, so both end the wait. Any other error still fails the test."""
    def gone(driver):
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
    return gone


class Browser:
    """One person's headless Chromium; accepts the server's self-signed certificate."""

    def __init__(self, server, person):
        if not (CHROMIUM and CHROMEDRIVER):
            pytest.fail("Chromium and chromedriver are required (apt-get install chromium chromium-driver; .ci/run does)",
                        pytrace=False)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--window-size=1024,1366", "--lang=en-AU"):
            options.add_argument(flag)
        # The console is kept: the attack suite reads CSP violations from it.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.server, self.person = server, person

    def open(self, path):
        self.driver.get(self.server.base + path)
        return self

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def fill(self, name, value, within="form"):
        """Types into the field called `name` of the first form matching the CSS `within`."""
        field = self.driver.find_element(By.CSS_SELECTOR, "%s [name='%s']" % (within, name))
        field.clear()
        field.send_keys(value)

    def choose(self, name, visible_text, within="form"):
        """Picks `visible_text` in the list called `name` of the first form matching the CSS `within`."""
        Select(self.driver.find_element(By.CSS_SELECTOR, "%s select[name='%s']" % (within, name))).select_by_visible_text(visible_text)

    def press(self, label):
        """Clicks the button and waits for the page the form leads to."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.XPATH, "//button[normalize-space()='%s']" % label).click()
        WebDriverWait(self.driver, 15).until(replaced(page))

    def follow(self, link_text):
        """Clicks the link and waits for the page it leads to."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.LINK_TEXT, link_text).click()
        WebDriverWait(self.driver, 15).until(replaced(page))

    def sign_in(self):
        self.open("/login")
        self.fill("email", self.person.email)
        self.fill("password", self.person.password)
        self.press("Sign in")
        assert "/login" not in self.driver.current_url, self.text()
        return self

    def options(self, name):
        return [option.text for option in Select(self.driver.find_element(By.NAME, name)).options]

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / ("%s.png" % name)
        assert self.driver.save_screenshot(str(path)), path
        print("screenshot:", path)

    def close(self):
        self.driver.quit()


class Person:
    """Someone the owner invites on the staff page: what they type to join and to sign in."""

    def __init__(self, role):
        self.role = role
        self.name = "%s %s" % (role.capitalize(), canary("Stf"))
        self.email = "%s@%s.example" % (canary("s").lower(), canary("d").lower())
        self.password = password()


def invite_in_the_browser(server, owner, roles):
    """The owner invites one person per role on the staff page and hands each the link it shows;
    each opens it in a browser of their own, chooses a password and joins."""
    people = [Person(role) for role in roles]
    admin = Browser(server, owner)
    try:
        admin.sign_in().follow("Staff")
        for person in people:
            admin.fill("name", person.name, within="form[action$='/staff']")
            admin.fill("email", person.email, within="form[action$='/staff']")
            admin.driver.find_element(By.CSS_SELECTOR, "input[name='roles[]'][value='%s']" % person.role).click()
            admin.press("Invite")
            link = admin.driver.find_element(By.ID, "invitation-link").get_attribute("href")
            assert "/invitations/accept?token=" in link, admin.text()
            admin.shot("00-owner-invites-a-%s" % person.role)
            joining = Browser(server, person)
            try:
                joining.driver.get(link)
                joining.fill("password", person.password)
                joining.press("Join")
                assert joining.driver.current_url.endswith("/login"), joining.text()
            finally:
                joining.close()
        admin.open("/clinics/%s/staff" % owner.clinic_id)
        shown = admin.text()
        assert all(person.name in shown for person in people), shown
    finally:
        admin.close()
    staff = owner.request("GET", "/api/v1/clinics/%s/staff" % owner.clinic_id).json()["staff"]
    for person in people:
        person.user_id = next(member["userId"] for member in staff if member["email"] == person.email)
        assert next(member["roles"] for member in staff if member["email"] == person.email) == [person.role]
    return people


# Issue 7: the owner invites the staff; a receptionist registers a patient and books; the practitioner writes, signs and
# prescribes a formula; the receptionist's pages never show the consultation (DAO-15, DC-11)
def test_a_clinic_day_in_a_real_browser(sqlite_server):
    server = sqlite_server
    owner = server.client().sign_up()
    clinic = "/clinics/%s" % owner.clinic_id
    practitioner, receptionist, bookkeeper = invite_in_the_browser(server, owner, ["practitioner", "receptionist", "bookkeeper"])
    kind = owner.request("POST", "/api/v1%s/appointment-types" % clinic, json={"name": "Acupuncture", "durationMinutes": 45, "priceCents": 9500})
    assert kind.status_code == 201, kind.text
    formula = owner.request("POST", "/api/v1%s/formulas" % clinic, json={
        "name": "Xiao Yao San", "herbs": [{"herb": "Chai Hu", "grams": 9}, {"herb": "Dang Gui", "grams": 9}]})
    assert formula.status_code == 201, formula.text
    family, note = canary("Fm"), canary("Note")

    desk = Browser(server, receptionist)
    try:
        desk.sign_in().open(clinic + "/patients/new")
        # The stylesheet loads (the page is laid out by it, not by the browser's defaults).
        styled = desk.driver.execute_script("return document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0")
        assert styled, "the stylesheet did not load"
        desk.fill("givenName", "Ada")
        desk.fill("familyName", family)
        desk.fill("phone", "0412 345 678")
        desk.press("Save")
        patient_id = desk.driver.current_url.rstrip("/").split("/")[-1]
        assert family in desk.text()
        desk.shot("01-receptionist-new-patient")
        desk.open(clinic + "/calendar?date=2031-02-03")
        desk.choose("patientId", "%s, Ada" % family)
        desk.choose("practitionerId", practitioner.name, within="form[action$='/calendar/book']")
        desk.choose("appointmentTypeId", "Acupuncture (45 min)")
        # A datetime-local field's typing order depends on the locale; its value is set directly.
        desk.driver.execute_script("document.getElementsByName('startsAt')[0].value = '2031-02-03T09:00'")
        desk.press("Book")
        assert "09:00" in desk.text() and family in desk.text(), desk.text()
        desk.shot("02-receptionist-calendar")
    finally:
        desk.close()

    clinician = Browser(server, practitioner)
    try:
        clinician.sign_in().open("%s/patients/%s/chart" % (clinic, patient_id))
        clinician.follow("New consultation")
        clinician.fill("subjective", "Stress and poor sleep. " + note)
        clinician.fill("assessment", "Liver qi stagnation")
        clinician.press("Save draft")
        consultation_url = clinician.driver.current_url
        clinician.press("Sign")
        assert "signed" in clinician.text().lower() and note in clinician.text()
        clinician.shot("03-practitioner-signed-consultation")
        clinician.open("%s/patients/%s/prescriptions/new" % (clinic, patient_id))
        clinician.choose("formulaId", "Xiao Yao San")
        clinician.press("Write prescription")
        assert "Chai Hu" in clinician.text() and "/print" in clinician.driver.current_url, clinician.text()
        clinician.shot("04-practitioner-printable-prescription")
        clinician.open("%s/patients/%s/chart" % (clinic, patient_id))
        assert note in clinician.text()
        clinician.shot("05-practitioner-chart")
    finally:
        clinician.close()

    # The bookkeeper bills the visit and settles it; the notes are never on their pages (DC-11).
    books = Browser(server, bookkeeper)
    try:
        books.sign_in().open("%s/patients/%s/chart" % (clinic, patient_id))
        assert note not in books.text() and "Invoices" in books.text()
        books.follow("New invoice")
        books.choose("appointmentId", [option for option in books.options("appointmentId") if "Acupuncture" in option][0])
        books.fill("description", "Heat pack")
        books.fill("amount", "22.00")
        books.driver.find_element(By.NAME, "gstApplies").click()
        books.press("Save draft")
        assert "Draft invoice" in books.text() and "$117.00" in books.text() and "$2.00" in books.text(), books.text()
        books.shot("06-bookkeeper-draft-invoice")
        books.press("Issue invoice")
        assert "Invoice 1" in books.text() and books.driver.find_element(By.ID, "invoice-status").text == "issued"
        books.shot("07-bookkeeper-issued-invoice")
        books.fill("amount", "117.00")
        books.choose("method", "card")
        books.fill("reference", "EFT-2031")
        books.press("Record payment")
        assert books.driver.find_element(By.ID, "invoice-status").text == "paid", books.text()
        assert books.driver.find_element(By.ID, "invoice-balance").text == "$0.00"
        books.shot("08-bookkeeper-settled-invoice")
        invoice_url = books.driver.current_url
    finally:
        books.close()

    # The practitioner's pages never show revenue: no invoices on the chart or in the menu, and
    # the invoice itself is refused.
    clinician = Browser(server, practitioner)
    try:
        clinician.sign_in().open("%s/patients/%s/chart" % (clinic, patient_id))
        shown = clinician.text()
        assert "Invoices" not in shown and "$117.00" not in shown and "$" not in shown, shown
        clinician.driver.get(invoice_url)
        assert "Not allowed" in clinician.driver.title and "$117.00" not in clinician.text()
        clinician.open(clinic + "/invoices")
        assert "Not allowed" in clinician.driver.title
        clinician.shot("09-practitioner-refused-invoice")
    finally:
        clinician.close()

    desk = Browser(server, receptionist)
    try:
        desk.sign_in().open("%s/patients/%s/chart" % (clinic, patient_id))
        assert family in desk.text() and note not in desk.text()
        assert "$117.00" not in desk.text() and "Invoices" not in desk.text()
        desk.shot("10-receptionist-chart-without-notes")
        desk.driver.get(consultation_url)
        assert note not in desk.text() and "Not allowed" in desk.driver.title, desk.driver.title
        desk.shot("11-receptionist-refused-consultation")
    finally:
        desk.close()

    # The owner asks who accessed the record, from the chart's link (DC-19, POR-8).
    books = Browser(server, owner)
    try:
        books.sign_in().open("%s/patients/%s/chart" % (clinic, patient_id))
        books.follow("Who accessed this record")
        shown = books.text()
        assert "consultation.sign" in shown and practitioner.user_id in shown and "patient.create" in shown, shown
        assert note not in shown and family not in shown, "the audit page shows ids, never what was written"
        books.shot("12-owner-who-accessed-the-record")
    finally:
        books.close()


# Issue 4, DAO-13, PRX-6: an owner turns on two-step sign-in from the page, keeps the recovery
# codes, and the next sign-in asks for the second step, which a recovery code passes once.
def test_an_owner_turns_on_two_step_sign_in_in_a_real_browser(sqlite_server):
    owner = sqlite_server.client().sign_up()
    browser = Browser(sqlite_server, owner)
    try:
        browser.sign_in().follow("Two-step sign-in")
        assert "is off" in browser.text(), browser.text()
        browser.fill("password", owner.password, within="form[action='/me/two-step/begin']")
        browser.press("Set up an authenticator app")
        secret = browser.driver.find_element(By.ID, "totp-secret").text.replace(" ", "")
        assert browser.driver.find_element(By.ID, "otpauth-link").get_attribute("href").startswith("otpauth://totp/")
        browser.shot("13-owner-sets-up-two-step")
        browser.fill("code", pyotp.TOTP(secret).now())
        browser.press("Turn on two-step sign-in")
        codes = [item.text for item in browser.driver.find_elements(By.CSS_SELECTOR, "#recovery-codes code")]
        assert len(set(codes)) == 10, browser.text()
        browser.shot("14-owner-recovery-codes")
        browser.press("Sign out")
        browser.open("/login")
        browser.fill("email", owner.email)
        browser.fill("password", owner.password)
        browser.press("Sign in")
        assert browser.driver.current_url.endswith("/login/mfa"), browser.driver.current_url
        browser.fill("code", codes[0])
        browser.press("Continue")
        assert "/login" not in browser.driver.current_url, browser.text()
        browser.open("/me/two-step")
        assert "is on" in browser.text(), browser.text()
    finally:
        browser.close()
