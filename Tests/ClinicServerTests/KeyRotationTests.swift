@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Foundation
import Keyring
import SQLKit
import Testing
import Vapor

@Suite("Key rotation")
struct KeyRotationTests {
    static func rotation(_ app: ClinicTestApp) -> KeyRotation {
        var rotation = KeyRotation(store: app.services.store, keyring: app.services.keyring, requestID: "test-keys")
        rotation.settle = 0
        return rotation
    }

    /// The key version named in the header of a patient's stored `given_name`.
    static func storedVersion(_ app: ClinicTestApp, clinic: String, patient: String) async throws -> UInt32 {
        let bytes = try await app.asOwner(realm: clinic) { sql in
            try await sql.raw("SELECT given_name FROM patients WHERE id = \(bind: UUID(uuidString: patient)!)").first()?.decode(column: "given_name", as: Data.self)
        }
        return try SealedField(bytes: try #require(bytes)).keyVersion.rawValue
    }

    // POR-6: new data uses the new key, old keys keep decrypting existing data
    @Test("after a rotation new values are sealed with the new version and old ones still open", arguments: TestDatabase.allCases)
    func rotateSealsNewWrites(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (before, _) = try await app.createPatient(owner)
            let version = try await Self.rotation(app).rotate(UUID(uuidString: owner.clinicID)!)
            #expect(version == KeyVersion(rawValue: 2))
            let (after, _) = try await app.createPatient(owner)
            #expect(try await Self.storedVersion(app, clinic: owner.clinicID, patient: before) == 1)
            #expect(try await Self.storedVersion(app, clinic: owner.clinicID, patient: after) == 2)
            for id in [before, after] {
                #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner).status == .ok)
            }
        }
    }

    @Test("a search finds patients sealed under either version while a re-encryption is under way", arguments: TestDatabase.allCases)
    func searchAcrossVersions(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let surname = Canary.word("Sn")
            let old = try await app.createPatient(owner, ["givenName": "Ada", "familyName": surname, "phone": "0412 345 678"])
            try await Self.rotation(app).rotate(UUID(uuidString: owner.clinicID)!)
            let new = try await app.createPatient(owner, ["givenName": "Bea", "familyName": surname, "phone": "0498 765 432"])
            let byName = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients?q=\(surname)", as: owner)
            let found = Set((byName.json["patients"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(found == [old.id, new.id])
            for (phone, id) in [("0412345678", old.id), ("0498765432", new.id)] {
                let byPhone = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients?phone=\(phone)", as: owner)
                #expect((byPhone.json["patients"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            }
        }
    }

    // POR-5: every key use is logged
    @Test("every unwrap of a clinic's keys is logged, naming the clinic, the key's purpose and version, never the key")
    func keyUseLogged() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let (patient, _) = try await app.createPatient(owner)
            // As a restarted server: nothing unwrapped yet for this clinic.
            app.services.keyring.forget(UUID(uuidString: owner.clinicID)!)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(patient)", as: owner).status == .ok)
            let uses = LogCapture.all.filter { $0.contains("key unwrapped") && $0.contains("clinic=\(owner.clinicID)") }
            #expect(uses.contains { $0.contains("purpose=data") && $0.contains("version=1") })
            #expect(uses.contains { $0.contains("purpose=index") && $0.contains("version=1") })
            #expect(uses.count >= 3)  // the root key at creation, then data and index
        }
    }

    // DAO-9, POR-6: every kind of record moves forward; the old version is then destroyed and nothing is lost
    @Test("re-encryption moves every record to the new version, the old one is retired, and everything still reads", arguments: TestDatabase.allCases)
    func reencryptThenRetire(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let clinic = UUID(uuidString: team.clinic)!
            let booked = try await app.send(.POST, team.path("appointments"), json: [
                "patientId": team.patientID, "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID,
                "startsAt": "2030-03-04T09:00:00Z", "reason": "Knee pain after running"], as: team.receptionist)
            #expect(booked.status == .created)
            let appointment = try #require(booked.json["id"] as? String)
            let signed = try await app.startConsultation(team, note: ["subjective": "Sore knee", "plan": "Ice and rest"])
            #expect(try await app.send(.POST, team.path("consultations/\(signed)/sign"), as: team.practitioner).status == .ok)
            let amended = try await app.send(.POST, team.path("consultations/\(signed)/amendments"),
                                             json: ["reason": "Wrong knee", "subjective": "Sore left knee"], as: team.practitioner)
            #expect(amended.status == .created)
            let draft = try await app.startConsultation(team, note: ["assessment": "Draft thoughts"])
            let medication: [String: any Sendable] = ["name": "Ibuprofen", "dose": "400 mg", "route": "oral", "frequency": "twice daily",
                                                     "quantity": 20, "repeats": 0]
            let prescribed = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID, "medications": [medication]],
                                                as: team.practitioner)
            #expect(prescribed.status == .created)
            let prescription = try #require(prescribed.json["id"] as? String)

            let secret = try await app.send(.POST, team.path("integration-secrets"),
                                            json: ["kind": "integration-key", "label": "Lab", "value": "lab-key-1"], as: team.owner)
            #expect(secret.status == .created)
            let scan = Data("%PDF-1.7 consent form, signed".utf8)
            let uploaded = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=consent.pdf"), as: team.receptionist, bytes: scan)
            let file = try #require(uploaded.json["id"] as? String)
            let referrer = try await app.send(.POST, team.path("contacts"), json: ["kind": "referrer", "name": "Dr Okafor",
                                                                                   "providerNumber": "2426621B", "notes": "Sports medicine"], as: team.owner)
            let contact = try #require(referrer.json["id"] as? String)
            let drafted = try await app.send(.POST, team.path("invoices"), json: ["patientId": team.patientID, "notes": "Fund claim",
                                                                                  "lines": [["appointmentTypeId": team.typeID]]], as: team.owner)
            let invoice = try #require(drafted.json["id"] as? String)
            #expect(try await app.send(.POST, team.path("invoices/\(invoice)/issue"), as: team.owner).status == .ok)
            #expect(try await app.send(.POST, team.path("invoices/\(invoice)/payments"), json: ["amountCents": 500, "method": "card", "reference": "R-1"],
                                       as: team.owner).status == .created)
            #expect(try await app.send(.POST, team.path("invoices/\(invoice)/void"), json: ["reason": "x"], as: team.owner).status == .conflict)
            let covering = try await app.addMember(to: team.owner, roles: ["practitioner"])
            #expect(try await app.send(.POST, team.path("patients/\(team.patientID)/break-glass"), json: ["reason": "Night cover"],
                                       as: covering).status == .created)

            let rotation = Self.rotation(app)
            try await rotation.rotate(clinic)
            let moved = try await rotation.reencrypt(clinic) { _ in }
            #expect(moved.unreadable.isEmpty)
            #expect(moved.rowsResealed >= 6)
            let status = try await rotation.status(of: clinic)
            #expect(status.map(\.version.rawValue) == [1, 2])
            #expect(status[0].sealedValues == 0 && status[0].patients == 0)
            #expect(status[1].isCurrent && status[1].sealedValues > 10)

            try await rotation.retire(clinic, version: .first)
            // Another server (or this one after a restart) only has what realm_keys holds now.
            app.services.keyring.forget(clinic)
            #expect(try await rotation.status(of: clinic).map(\.version.rawValue) == [2])
            let patient = try await app.send(.GET, team.path("patients/\(team.patientID)"), as: team.owner)
            #expect(patient.status == .ok)
            let name = try #require(patient.json["familyName"] as? String)
            let search = try await app.send(.GET, team.path("patients?q=\(name)"), as: team.owner)
            #expect((search.json["patients"] as? [[String: Any]])?.count == 1)
            let readAppointment = try await app.send(.GET, team.path("appointments/\(appointment)"), as: team.practitioner)
            #expect(readAppointment.json["reason"] as? String == "Knee pain after running")
            let readSigned = try await app.send(.GET, team.path("consultations/\(signed)"), as: team.practitioner)
            #expect(readSigned.json["status"] as? String == "signed")
            #expect((readSigned.json["original"] as? [String: Any])?["plan"] as? String == "Ice and rest")
            #expect((readSigned.json["amendments"] as? [[String: Any]])?.first?["reason"] as? String == "Wrong knee")
            let readDraft = try await app.send(.GET, team.path("consultations/\(draft)"), as: team.practitioner)
            #expect(readDraft.status == .ok, "\(readDraft.text)")
            let readPrescription = try await app.send(.GET, team.path("prescriptions/\(prescription)"), as: team.practitioner)
            #expect(readPrescription.status == .ok, "\(readPrescription.text)")

            let ownerScope = ClinicScope(clinic: ClinicID(clinic), country: CountryCode.australia, actor: UserID(UUID(uuidString: team.owner.userID)!),
                                         roles: [.owner], context: RequestContext(actor: nil, address: nil, requestID: "test"))
            #expect(try await IntegrationSecrets(scope: ownerScope, services: app.services).use(.integrationKey, label: "Lab") == "lab-key-1")
            let downloaded = try await app.send(.GET, team.path("files/\(file)/content"), as: team.receptionist)
            #expect(downloaded.body == scan)
            #expect(try await app.send(.GET, team.path("files/\(file)"), as: team.receptionist).json["name"] as? String == "consent.pdf")
            let readContact = try await app.send(.GET, team.path("contacts/\(contact)"), as: team.receptionist)
            #expect(readContact.json["providerNumber"] as? String == "2426621B" && readContact.json["notes"] as? String == "Sports medicine")
            let readInvoice = try await app.send(.GET, team.path("invoices/\(invoice)"), as: team.bookkeeper)
            #expect(readInvoice.json["notes"] as? String == "Fund claim" && (readInvoice.json["lines"] as? [[String: Any]])?.count == 1)
            #expect((readInvoice.json["payments"] as? [[String: Any]])?.first?["reference"] as? String == "R-1")
            let grants = try await app.send(.GET, team.path("break-glass"), as: team.owner)
            #expect((grants.json["grants"] as? [[String: Any]])?.first?["reason"] as? String == "Night cover")

            let actions = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT action FROM audit_events WHERE chain_id = \(bind: clinic) AND action LIKE 'keys.%' ORDER BY sequence").all()
                    .map { try $0.decode(column: "action", as: String.self) }
            }
            #expect(actions == ["keys.rotate", "keys.reencrypt.start", "keys.reencrypt", "keys.retire"])
            #expect(try await app.verifyLedger(clinic: team.clinic).fault == nil)
        }
    }

    @Test("a second run after a finished one writes nothing", arguments: TestDatabase.allCases)
    func rerunWritesNothing(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            for _ in 0..<3 { _ = try await app.createPatient(owner) }
            let clinic = UUID(uuidString: owner.clinicID)!
            let rotation = Self.rotation(app)
            try await rotation.rotate(clinic)
            #expect(try await rotation.reencrypt(clinic) { _ in }.rowsResealed == 3)
            let again = try await rotation.reencrypt(clinic) { _ in }
            #expect(again.rowsChecked == 3 && again.rowsResealed == 0)
        }
    }

    @Test("a patient changed after the job read it keeps the change", arguments: TestDatabase.allCases)
    func concurrentChangeWins(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, _) = try await app.createPatient(owner)
            let clinic = UUID(uuidString: owner.clinicID)!
            try await Self.rotation(app).rotate(clinic)
            let keyring = app.services.keyring
            // The job's read, then a request's change, then the job's write.
            let stale = try await app.services.store.transaction(realm: clinic) { tx in
                try await tx.sql.raw("SELECT \(unsafeRaw: PatientRepository.columns) FROM patients WHERE id = \(bind: UUID(uuidString: id)!)").first()!
            }
            let changed = try await app.send(.PATCH, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", json: ["address": "1 Changed Lane"], as: owner)
            #expect(changed.status == .ok)
            let wrote = try await app.services.store.transaction(realm: clinic) { tx in
                try await PatientRepository.reseal(stale, realm: clinic, keys: try await keyring.keys(for: clinic, in: tx), in: tx)
            }
            #expect(!wrote)
            let read = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner)
            #expect(read.json["address"] as? String == "1 Changed Lane")
        }
    }

    @Test("a version still in use, or the current one, is not retired", arguments: TestDatabase.allCases)
    func retireRefusals(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.createPatient(owner)
            let clinic = UUID(uuidString: owner.clinicID)!
            let rotation = Self.rotation(app)
            await #expect(throws: KeyRotation.Refusal.isCurrent(.first)) { try await rotation.retire(clinic, version: .first) }
            try await rotation.rotate(clinic)
            await #expect(throws: KeyRotation.Refusal.stillReferenced(.first, 7)) { try await rotation.retire(clinic, version: .first) }
            await #expect(throws: KeyRotation.Refusal.noSuchVersion(KeyVersion(rawValue: 9))) {
                try await rotation.retire(clinic, version: KeyVersion(rawValue: 9))
            }
            #expect(try await rotation.status(of: clinic).map(\.version.rawValue) == [1, 2])
        }
    }

    // POR-9: the database admits a re-seal of a locked record and nothing else
    @Test("a signed consultation admits only a newer-version re-seal of its sealed columns", arguments: TestDatabase.allCases)
    func lockedRecordAdmitsOnlyReseal(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["subjective": "Cough", "plan": "Fluids"])
            #expect(try await app.send(.POST, team.path("consultations/\(id)/sign"), as: team.practitioner).status == .ok)
            let row = UUID(uuidString: id)!
            let stored = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT subjective, plan FROM consultations WHERE id = \(bind: row)").first()!
            }
            let plan = try stored.decode(column: "plan", as: Data.self)
            let subjective = try stored.decode(column: "subjective", as: Data.self)
            var newer = plan
            newer[newer.startIndex + 4] = 2 // key version 1 -> 2 in the header
            var older = plan
            older[older.startIndex + 4] = 0
            let refused: [(String, SQLQueryString)] = [
                ("same version, other bytes", "UPDATE consultations SET plan = \(bind: subjective) WHERE id = \(bind: row)"),
                ("an older version", "UPDATE consultations SET plan = \(bind: older) WHERE id = \(bind: row)"),
                ("a newer version with the signature time changed",
                 "UPDATE consultations SET plan = \(bind: newer), signed_at_ms = 1 WHERE id = \(bind: row)"),
                ("a newer version that is not a sealed value", "UPDATE consultations SET plan = \(bind: Data(newer.prefix(20))) WHERE id = \(bind: row)"),
                ("emptied", "UPDATE consultations SET plan = NULL WHERE id = \(bind: row)"),
            ]
            for (what, statement) in refused {
                await #expect(throws: (any Error).self, "\(what)") {
                    try await app.asOwner(realm: team.clinic) { sql in try await sql.raw(statement).run() }
                }
            }
            let admitted: SQLQueryString = "UPDATE consultations SET plan = \(bind: newer) WHERE id = \(bind: row)"
            try await app.asOwner(realm: team.clinic) { sql in try await sql.raw(admitted).run() }
        }
    }
}
