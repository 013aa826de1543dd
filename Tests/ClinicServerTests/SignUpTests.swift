import ClinicTestSupport
import Testing
import Vapor

@Suite("Clinic sign-up")
struct SignUpTests {
    func body(email: String = Canary.email(), password: String = Canary.password) -> [String: any Sendable] {
        ["name": "Harbour Clinic", "owner": ["email": email, "name": "Olive Owner", "password": password] as [String: any Sendable]]
    }

    @Test("open sign-up creates a clinic and its owner", arguments: TestDatabase.allCases)
    func creates(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let response = try await app.send(.POST, "/api/v1/clinics", json: body())
            #expect(response.status == .created)
            #expect((response.json["clinic"] as? [String: Any])?["name"] as? String == "Harbour Clinic")
            #expect((response.json["user"] as? [String: Any])?["id"] is String)
        }
    }

    @Test("sign-up is refused when it is not open")
    func closed() async throws {
        try await ClinicTestApp.with(.sqlite, signup: false) { app in
            let response = try await app.send(.POST, "/api/v1/clinics", json: body())
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "signup_closed")
        }
    }

    // DC-4, ASVS 2.1.1, 2.1.7
    @Test("a short or common password is refused naming the field", arguments: [
        ("short pass1", "password_too_short"), ("password1234", "password_common"), ("1qaz2wsx3edc", "password_common"),
    ])
    func weakPassword(_ password: String, _ code: String) async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.POST, "/api/v1/clinics", json: body(password: password))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
            #expect(response.errorField == "owner.password")
        }
    }

    @Test("an e-mail address already in use is a conflict", arguments: TestDatabase.allCases)
    func duplicateEmail(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let email = Canary.email()
            #expect(try await app.send(.POST, "/api/v1/clinics", json: body(email: email)).status == .created)
            let again = try await app.send(.POST, "/api/v1/clinics", json: body(email: email.uppercased()))
            #expect(again.status == .conflict)
            #expect(again.errorField == "owner.email")
        }
    }

    // DC-16
    @Test("bad bodies answer 4xx in the error shape, never 5xx", arguments: [
        (#"{"name": "#, 400, "invalid_body"), (#"{"owner": {}}"#, 400, "required"), (#"[1,2]"#, 400, "invalid_body"),
        (#"{"name": 5, "owner": {}}"#, 400, "invalid_body"),
    ])
    func badBodies(_ raw: String, _ status: Int, _ code: String) async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.POST, "/api/v1/clinics", rawBody: raw)
            #expect(response.status.code == status)
            #expect(response.errorCode == code)
        }
    }

    @Test("a body that is not JSON answers 415")
    func notJSON() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.POST, "/api/v1/clinics", headers: ["Content-Type": "text/plain"], rawBody: "name=x")
            #expect(response.status == .unsupportedMediaType)
        }
    }
}
