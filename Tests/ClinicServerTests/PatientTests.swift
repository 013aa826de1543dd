import ClinicTestSupport
import Testing
import Vapor

@Suite("Patients")
struct PatientTests {
    @Test("a created patient reads back with normalised values", arguments: TestDatabase.allCases)
    func createAndRead(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, sent) = try await app.createPatient(owner, ["givenName": "Wilhelmina", "familyName": "Quartermaine",
                                                                "birthDate": "1984-02-29", "phone": "0412 345 678", "email": "Willa.Q@Example.org",
                                                                "address": "1 Harbour St", "medicareNumber": "2123 45670 1",
                                                                "sex": "Female", "postcode": " 2000 "])
            let read = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner)
            #expect(read.status == .ok)
            #expect(read.json["givenName"] as? String == sent["givenName"] as? String)
            #expect(read.json["phone"] as? String == "+61412345678")
            #expect(read.json["email"] as? String == "willa.q@example.org")
            #expect(read.json["medicareNumber"] as? String == "2123456701")
            #expect(read.json["birthDate"] as? String == "1984-02-29")
            #expect(read.json["sex"] as? String == "female")
            #expect(read.json["postcode"] as? String == "2000")
        }
    }

    @Test("search finds a patient by national phone, E.164 phone, e-mail and name tokens", arguments: TestDatabase.allCases)
    func search(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let family = Canary.word("Fm")
            let (id, _) = try await app.createPatient(owner, ["givenName": "Zoë", "familyName": family, "phone": "0498 765 432", "email": "zoe@home.example"])
            _ = try await app.createPatient(owner, ["givenName": "Other", "familyName": Canary.word(), "phone": "0411 111 111"])
            let base = "/api/v1/clinics/\(owner.clinicID)/patients"
            for query in ["phone=0498%20765%20432", "phone=%2B61498765432", "email=ZOE@home.example", "q=\(family.lowercased())",
                          "q=zoe%20\(family.uppercased())", "q=ZOE"] {
                let response = try await app.send(.GET, "\(base)?\(query)", as: owner)
                #expect(response.status == .ok, "\(query)")
                let ids = (response.json["patients"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(ids == [id], "\(query)")
            }
            let none = try await app.send(.GET, "\(base)?q=zoe%20nobody", as: owner)
            #expect((none.json["patients"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a change keeps what it does not name and clears what it empties", arguments: TestDatabase.allCases)
    func update(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, sent) = try await app.createPatient(owner)
            let path = "/api/v1/clinics/\(owner.clinicID)/patients/\(id)"
            let changed = try await app.send(.PATCH, path, json: ["address": "2 New Road", "email": "", "phone": "+61 400 000 001"], as: owner)
            #expect(changed.status == .ok)
            #expect(changed.json["address"] as? String == "2 New Road")
            #expect(changed.json["email"] == nil)
            #expect(changed.json["familyName"] as? String == sent["familyName"] as? String)
            let byNewPhone = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients?phone=0400000001", as: owner)
            #expect((byNewPhone.json["patients"] as? [[String: Any]])?.first?["id"] as? String == id)
        }
    }

    @Test("a deleted patient is gone", arguments: TestDatabase.allCases)
    func delete(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, _) = try await app.createPatient(owner)
            let path = "/api/v1/clinics/\(owner.clinicID)/patients/\(id)"
            #expect(try await app.send(.DELETE, path, as: owner).status == .noContent)
            #expect(try await app.send(.GET, path, as: owner).status == .notFound)
            #expect(try await app.send(.DELETE, path, as: owner).status == .notFound)
        }
    }

    // DC-16
    @Test("bad patient input is a 400 naming the field", arguments: [
        (["givenName": "A"] as [String: any Sendable], "familyName"),
        (["givenName": "A", "familyName": "B", "phone": "12"], "phone"),
        (["givenName": "A", "familyName": "B", "birthDate": "yesterday"], "birthDate"),
        (["givenName": "A", "familyName": "B", "medicareNumber": "2123456781"], "medicareNumber"),
        (["givenName": 7, "familyName": "B"], "givenName"),
        (["givenName": "A", "familyName": "B", "sex": "f"], "sex"),
        (["givenName": "A", "familyName": "B", "postcode": "20000"], "postcode"),
    ])
    func invalidInput(_ body: [String: any Sendable], _ field: String) async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let response = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/patients", json: body, as: owner)
            #expect(response.status == .badRequest)
            #expect(response.errorField == field)
        }
    }

    @Test("bad search parameters are a 400 naming the parameter", arguments: ["phone=abc", "limit=0", "limit=x", "email=nope"])
    func invalidQuery(_ query: String) async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let response = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients?\(query)", as: owner)
            #expect(response.status == .badRequest)
            #expect(response.errorField == String(query.split(separator: "=")[0]))
        }
    }

    @Test("a malformed patient id answers 404, not 500")
    func malformedID() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/not-a-uuid", as: owner).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/not-a-uuid/patients", as: owner).status == .notFound)
        }
    }
}
