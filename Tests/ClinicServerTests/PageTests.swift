import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Staff pages")
struct PageTests {
    @Test("the login page is a form with a login token and no inline script")
    func loginPage() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let page = try await app.send(.GET, "/login")
            #expect(page.status == .ok)
            #expect(page.text.contains("name=\"loginToken\""))
            #expect(!page.text.contains("<script"))
            #expect(page.setCookie("__Host-clinickeep-login") != nil)
        }
    }

    // DC-15: login CSRF
    @Test("a login form posted without its login token is refused")
    func loginNeedsToken() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let response = try await app.send(.POST, "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                              rawBody: "email=\(owner.email)&password=\(owner.password)")
            #expect(response.status == .forbidden)
            #expect(response.setCookie("__Host-clinickeep-session") == nil)
        }
    }

    @Test("the patient list page shows the clinic's patients to a signed-in member", arguments: TestDatabase.allCases)
    func patientList(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (_, sent) = try await app.createPatient(owner)
            let page = try await app.send(.GET, "/clinics/\(owner.clinicID)/patients", as: owner)
            #expect(page.status == .ok)
            #expect(page.text.contains(sent["familyName"] as! String))
            #expect(page.text.contains("name=\"csrfToken\""))
        }
    }

    @Test("a page needing a session sends the visitor to the login page")
    func redirectsToLogin() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let page = try await app.send(.GET, "/clinics/\(UUID().uuidString)/patients")
            #expect(page.status == .seeOther)
            #expect(page.headers.first(name: .location) == "/login")
        }
    }

    @Test("a patient created through the form is stored and shown", arguments: TestDatabase.allCases)
    func createThroughForm(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let family = Canary.word("Fm")
            let response = try await app.send(.POST, "/clinics/\(owner.clinicID)/patients", as: owner, csrf: false,
                                              headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                              rawBody: "csrfToken=\(owner.csrfToken)&givenName=Ada&familyName=\(family)&phone=0412+345+678")
            #expect(response.status == .seeOther)
            let location = try #require(response.headers.first(name: .location))
            let page = try await app.send(.GET, location, as: owner)
            #expect(page.text.contains(family))
            #expect(page.text.contains("+61412345678"))
        }
    }

    @Test("the setup link works once and makes its user the owner")
    func setupLinkOnce() async throws {
        try await ClinicTestApp.with(.sqlite, signup: false) { app in
            let token = try #require(try await app.issueSetupToken())
            let form = try await app.send(.GET, "/setup?token=\(token)")
            #expect(form.status == .ok)
            let loginToken = try #require(form.setCookie("__Host-clinickeep-login")?.value)
            let body = "token=\(token)&loginToken=\(loginToken)&clinicName=First+Clinic&country=AU&ownerName=Fay&email=fay%40first.example&password=river+lantern+7+quietly+orbit"
            let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded", "Cookie": "__Host-clinickeep-login=\(loginToken)"]
            let done = try await app.send(.POST, "/setup", headers: headers, rawBody: body)
            #expect(done.status == .seeOther)
            #expect(done.setCookie("__Host-clinickeep-session") != nil)
            #expect(try await app.send(.GET, "/setup?token=\(token)").status == .notFound)
            #expect(try await app.send(.POST, "/setup", headers: headers, rawBody: body).status == .notFound)
        }
    }

    // Security review round 2, A13: the link was spent before the breached-password check refused.
    @Test("a password the breached-password service refuses does not spend the setup link")
    func setupLinkSurvivesRefusedPassword() async throws {
        let breached = "river lantern seven quietly orbit"
        let range = try await RangeService(breached: breached)
        do {
            try await ClinicTestApp.with(.sqlite, signup: false, adjust: { $0.breachedRangeURL = "http://127.0.0.1:\(range.port)/range" }) { app in
                let token = try #require(try await app.issueSetupToken())
                let form = try await app.send(.GET, "/setup?token=\(token)")
                let loginToken = try #require(form.setCookie("__Host-clinickeep-login")?.value)
                let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded", "Cookie": "__Host-clinickeep-login=\(loginToken)"]
                func body(_ password: String) -> String {
                    "token=\(token)&loginToken=\(loginToken)&clinicName=First+Clinic&country=AU&ownerName=Fay&email=fay%40first.example&password="
                        + password.replacingOccurrences(of: " ", with: "+")
                }
                let refused = try await app.send(.POST, "/setup", headers: headers, rawBody: body(breached))
                #expect(refused.status == .badRequest && refused.text.contains("data breach"))
                #expect(try await app.send(.GET, "/setup?token=\(token)").status == .ok)
                let done = try await app.send(.POST, "/setup", headers: headers, rawBody: body("a different unusual phrase 8"))
                #expect(done.status == .seeOther)
            }
        } catch {
            try await range.stop()
            throw error
        }
        try await range.stop()
    }
}
