import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Sealed at rest")
struct SealedAtRestTests {
    static let sealedColumns = ["given_name", "family_name", "birth_date", "phone", "email", "address", "medicare_number"]

    // DAO-5, DC-2, POR-2, POR-3, DU-1
    @Test("no personal field of a patient is stored in the clear", arguments: TestDatabase.allCases)
    func noPlaintext(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, sent) = try await app.createPatient(owner)
            let row = try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("SELECT * FROM patients WHERE id = \(bind: UUID(uuidString: id)!)").first()
            }
            let stored = try #require(row)
            var allBytes = Data()
            for column in Self.sealedColumns {
                let bytes = try #require(try stored.decode(column: column, as: Data?.self), "\(column) is empty")
                #expect(bytes.first == 1, "\(column) is a version-1 sealed blob")
                allBytes.append(bytes)
            }
            for column in ["phone_index", "email_index", "medicare_index"] {
                allBytes.append(try stored.decode(column: column, as: Data?.self) ?? Data())
            }
            let phoneDigits = String((sent["phone"] as! String).filter(\.isNumber).dropFirst())
            for canary in [sent["givenName"], sent["familyName"], sent["email"], sent["address"], sent["medicareNumber"]].compactMap({ $0 as? String }) + [phoneDigits, "1979-03-14"] {
                #expect(!allBytes.contains(Data(canary.utf8)), "plaintext found in the row")
            }
        }
    }

    @Test("the SQLite file holds none of a patient's values")
    func sqliteFileClean() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let (_, sent) = try await app.createPatient(owner)
            let directory = app.settings.dataDirectory
            var bytes = Data()
            for file in ["clinickeep.sqlite", "clinickeep.sqlite-wal"] {
                bytes.append(FileManager.default.contents(atPath: directory + "/" + file) ?? Data())
            }
            #expect(bytes.count > 10_000)
            for canary in [sent["givenName"], sent["familyName"], sent["email"], sent["medicareNumber"]].compactMap({ $0 as? String }) + [owner.email] {
                #expect(!bytes.contains(Data(canary.utf8)))
            }
        }
    }

    // POR-9: a sealed value copied elsewhere does not open
    @Test("a sealed value copied into another patient's row does not open", arguments: TestDatabase.allCases)
    func copiedValueRefused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (source, _) = try await app.createPatient(owner)
            let (target, _) = try await app.createPatient(owner)
            try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("""
                    UPDATE patients SET given_name = (SELECT given_name FROM patients WHERE id = \(bind: UUID(uuidString: source)!))
                    WHERE id = \(bind: UUID(uuidString: target)!)
                    """).run()
            }
            let read = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(target)", as: owner)
            #expect(read.status == .internalServerError)
            #expect(read.errorCode == "integrity_failure")
            #expect(!read.text.contains("Gv"))
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(source)", as: owner).status == .ok)
        }
    }

    @Test("a staff member's e-mail and name are sealed too", arguments: TestDatabase.allCases)
    func staffSealed(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let rows = try await app.serverConnectionWithoutRealm.raw("SELECT email, name, email_index FROM users").all()
            for row in rows {
                for column in ["email", "name", "email_index"] {
                    #expect(!(try row.decode(column: column, as: Data.self)).contains(Data(owner.email.utf8)))
                }
            }
        }
    }
}
