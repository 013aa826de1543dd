import ClinicDomain
import Foundation
import Keyring
import SQLKit

struct AmendmentRecord: Sendable {
    let id: AmendmentID
    let author: UserID
    let reason: String
    let note: ConsultationNote
    let createdAt: Date
}

struct ConsultationRecord: Sendable {
    let id: ConsultationID
    let patient: PatientID
    let appointment: AppointmentID?
    let practitioner: UserID
    /// As written and, once signed, as signed: never rewritten.
    let note: ConsultationNote
    let createdAt: Date
    let updatedAt: Date
    let signedAt: Date?
    var amendments: [AmendmentRecord]

    var state: ConsultationState { signedAt == nil ? .draft : .signed }
}

/// Consultation notes: each SOAP part sealed in its own column, bound to its row. A draft is
/// its author's to change; signing locks it (the database refuses changes from then on), and
/// a correction is an amendment stored beside the original.
struct ConsultationRecords: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "consultations"
    static let amendmentsTable = "consultation_amendments"
    private static let columns = "id, patient_id, appointment_id, practitioner_id, subjective, objective, assessment, plan, created_at_ms, updated_at_ms, signed_at_ms"

    func create(patient: PatientID, appointment: AppointmentID?, note: ConsultationNote) async throws -> ConsultationRecord {
        let scope = self.scope, keyring = services.keyring
        let id = ConsultationID.random()
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ConsultationRecord> in
            try await ClinicReferences.requirePatient(patient, clinic: scope.realm, in: tx)
            // Writing for a patient needs involvement already: writing is never a way to become involved.
            if let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .clinicalNote, in: tx) { return .refused(refusal) }
            if let appointment {
                let row = try await tx.sql.raw("""
                    SELECT patient_id FROM appointments WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: appointment.rawValue)
                    """).first()
                guard let row, try row.decode(column: "patient_id", as: UUID.self) == patient.rawValue else {
                    throw ClinicError.invalid("appointmentId", "No appointment of this patient with this id in this clinic.", code: "unknown_reference")
                }
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let sealed = try Self.seal(note, table: Self.table, row: id.rawValue, keys: keys)
            let now = Date().milliseconds
            try await tx.sql.raw("""
                INSERT INTO consultations (id, clinic_id, patient_id, appointment_id, practitioner_id, subjective, objective, assessment, plan,
                                           created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: patient.rawValue), \(bind: appointment?.rawValue),
                        \(bind: scope.actor.rawValue), \(bind: sealed[0]), \(bind: sealed[1]), \(bind: sealed[2]), \(bind: sealed[3]),
                        \(bind: now), \(bind: now))
                """).run()
            try await Ledger.append(scope.event("consultation.create", resourceType: "consultation", resource: id.rawValue,
                                                detail: "patient=\(patient)"), in: tx)
            return .done(ConsultationRecord(id: id, patient: patient, appointment: appointment, practitioner: scope.actor, note: note,
                                      createdAt: Date(milliseconds: now), updatedAt: Date(milliseconds: now), signedAt: nil, amendments: []))
        }.get()
    }

    func find(_ id: ConsultationID) async throws -> ConsultationRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ConsultationRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx) else {
                try await Ledger.append(scope.event("consultation.read", resourceType: "consultation", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            if let refusal = try await PatientInvolvement.refusal(scope, patient: try Self.patient(of: row), .clinicalNote, in: tx) {
                return .refused(refusal)
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            var record = try Self.open(row, keys: keys)
            record.amendments = try await Self.amendments(of: [id], scope: scope, keys: keys, in: tx)[id] ?? []
            try await Ledger.append(scope.event("consultation.read", resourceType: "consultation", resource: id.rawValue,
                                                detail: "patient=\(record.patient)"), in: tx)
            return .done(record)
        }.get()
    }

    /// A patient's consultations, newest first, with their amendments. Under case-based access
    /// a practitioner's list holds only patients they are involved with, and one patient's list
    /// is refused unless they are.
    func list(patient: PatientID?, paging: Paging) async throws -> [ConsultationRecord] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<[ConsultationRecord]> in
            if let patient, let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .clinicalNote, in: tx) {
                return .refused(refusal)
            }
            let query = PatientRecordListing.newestFirst(from: "consultations", columns: Self.columns, clinic: scope.realm, patient: patient,
                                                         narrowedTo: PatientInvolvement.listFilter(scope, .clinicalNote), paging: paging)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            var records = try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            let amendments = try await Self.amendments(of: records.map(\.id), scope: scope, keys: keys, in: tx)
            for index in records.indices { records[index].amendments = amendments[records[index].id] ?? [] }
            try await Ledger.append(scope.event("consultation.list", resourceType: "consultation",
                                                detail: PatientRecordListing.shownPatients(records.map(\.patient))), in: tx)
            return .done(records)
        }.get()
    }

    /// Changes a draft; only its author may, and never once signed.
    func revise(_ id: ConsultationID, _ change: @escaping @Sendable (ConsultationNote) throws -> ConsultationNote) async throws -> ConsultationRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ConsultationRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx, forUpdate: true) else {
                try await Ledger.append(scope.event("consultation.update", resourceType: "consultation", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let existing = try Self.open(row, keys: keys)
            if let refusal = Self.refusalToChange(existing, by: scope.actor) {
                try await Ledger.append(scope.event("consultation.update", resourceType: "consultation", resource: id.rawValue,
                                                    outcome: .failure, detail: "patient=\(existing.patient) refused=\(refusal.code.rawValue)"), in: tx)
                return .refused(refusal)
            }
            let note = try change(existing.note)
            let sealed = try Self.seal(note, table: Self.table, row: id.rawValue, keys: keys)
            let now = Date().milliseconds
            // The signed_at_ms condition is the route's check made again by the database.
            try await tx.sql.raw("""
                UPDATE consultations SET subjective = \(bind: sealed[0]), objective = \(bind: sealed[1]), assessment = \(bind: sealed[2]),
                    plan = \(bind: sealed[3]), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) AND signed_at_ms IS NULL
                """).run()
            try await Ledger.append(scope.event("consultation.update", resourceType: "consultation", resource: id.rawValue,
                                                detail: "patient=\(existing.patient)"), in: tx)
            return .done(ConsultationRecord(id: id, patient: existing.patient, appointment: existing.appointment, practitioner: existing.practitioner,
                                            note: note, createdAt: existing.createdAt, updatedAt: Date(milliseconds: now), signedAt: nil, amendments: []))
        }.get()
    }

    /// Signs a draft: from now on it is locked.
    func sign(_ id: ConsultationID) async throws -> ConsultationRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ConsultationRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx, forUpdate: true) else {
                try await Ledger.append(scope.event("consultation.sign", resourceType: "consultation", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let existing = try Self.open(row, keys: try await keyring.keys(for: scope.realm, in: tx))
            if let refusal = Self.refusalToChange(existing, by: scope.actor) {
                try await Ledger.append(scope.event("consultation.sign", resourceType: "consultation", resource: id.rawValue,
                                                    outcome: .failure, detail: "patient=\(existing.patient) refused=\(refusal.code.rawValue)"), in: tx)
                return .refused(refusal)
            }
            guard !existing.note.isEmpty else {
                throw ClinicError.conflict("consultation_empty", "Write at least one part of the note before signing it.")
            }
            let now = Date().milliseconds
            try await tx.sql.raw("""
                UPDATE consultations SET signed_at_ms = \(bind: now), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) AND signed_at_ms IS NULL
                """).run()
            try await Ledger.append(scope.event("consultation.sign", resourceType: "consultation", resource: id.rawValue,
                                                detail: "patient=\(existing.patient)"), in: tx)
            return .done(ConsultationRecord(id: id, patient: existing.patient, appointment: existing.appointment, practitioner: existing.practitioner,
                                            note: existing.note, createdAt: existing.createdAt, updatedAt: Date(milliseconds: now),
                                            signedAt: Date(milliseconds: now), amendments: []))
        }.get()
    }

    /// Adds a correction to a signed consultation. Any clinician may amend (a colleague may
    /// correct a record); the amendment names its author and never replaces the original.
    func amend(_ id: ConsultationID, with amendment: Amendment) async throws -> ConsultationRecord {
        let scope = self.scope, keyring = services.keyring
        let amendmentID = AmendmentID.random()
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ConsultationRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx, forUpdate: true) else {
                try await Ledger.append(scope.event("consultation.amend", resourceType: "consultation", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            if let refusal = try await PatientInvolvement.refusal(scope, patient: try Self.patient(of: row), .clinicalNote, in: tx) {
                return .refused(refusal)
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            var record = try Self.open(row, keys: keys)
            try record.state.checkAmendable()
            let sealed = try Self.seal(amendment.note, table: Self.amendmentsTable, row: amendmentID.rawValue, keys: keys)
            let reason = try keys.seal(amendment.reason, table: Self.amendmentsTable, column: "reason", row: amendmentID.rawValue).bytes
            try await tx.sql.raw("""
                INSERT INTO consultation_amendments (id, clinic_id, consultation_id, author_id, reason, subjective, objective, assessment, plan, created_at_ms)
                VALUES (\(bind: amendmentID.rawValue), \(bind: scope.realm), \(bind: id.rawValue), \(bind: scope.actor.rawValue), \(bind: reason),
                        \(bind: sealed[0]), \(bind: sealed[1]), \(bind: sealed[2]), \(bind: sealed[3]), \(bind: Date().milliseconds))
                """).run()
            record.amendments = try await Self.amendments(of: [id], scope: scope, keys: keys, in: tx)[id] ?? []
            try await Ledger.append(scope.event("consultation.amend", resourceType: "consultation", resource: id.rawValue,
                                                detail: "patient=\(record.patient) amendment=\(amendmentID)"), in: tx)
            return .done(record)
        }.get()
    }

    private static func refusalToChange(_ record: ConsultationRecord, by actor: UserID) -> ClinicError? {
        do { try record.state.checkEditable() } catch { return error }
        guard record.practitioner == actor else {
            return ClinicError.forbidden("Only the practitioner who wrote this consultation may change or sign it.")
        }
        return nil
    }

    /// The amendments of these consultations in one query, oldest first under each.
    private static func amendments(of ids: [ConsultationID], scope: ClinicScope, keys: RealmKeys,
                                   in tx: ScopedSQL) async throws -> [ConsultationID: [AmendmentRecord]] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await tx.sql.raw("""
            SELECT id, consultation_id, author_id, reason, subjective, objective, assessment, plan, created_at_ms FROM consultation_amendments
            WHERE clinic_id = \(bind: scope.realm) AND consultation_id IN (\(binds: ids.map(\.rawValue))) ORDER BY created_at_ms, id
            """).all()
        var byConsultation: [ConsultationID: [AmendmentRecord]] = [:]
        for row in rows {
            let amendmentID = try row.decode(column: "id", as: UUID.self)
            let amendment = AmendmentRecord(
                id: AmendmentID(amendmentID),
                author: UserID(try row.decode(column: "author_id", as: UUID.self)),
                reason: try keys.openRequiredColumn(row, table: amendmentsTable, column: "reason", id: amendmentID),
                note: try openNote(row, table: amendmentsTable, id: amendmentID, keys: keys),
                createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)))
            byConsultation[ConsultationID(try row.decode(column: "consultation_id", as: UUID.self)), default: []].append(amendment)
        }
        return byConsultation
    }

    private static func row(_ id: ConsultationID, scope: ClinicScope, in tx: ScopedSQL, forUpdate: Bool = false) async throws -> (any SQLRow)? {
        let lock = forUpdate && tx.kind == .postgres ? " FOR UPDATE" : ""
        return try await tx.sql.raw("""
            SELECT \(unsafeRaw: columns) FROM consultations WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)\(unsafeRaw: lock)
            """).first()
    }

    private static func patient(of row: any SQLRow) throws -> PatientID {
        PatientID(try row.decode(column: "patient_id", as: UUID.self))
    }

    /// The four parts sealed, in `ConsultationNote.parts` order.
    private static func seal(_ note: ConsultationNote, table: String, row: UUID, keys: RealmKeys) throws -> [Data?] {
        try ConsultationNote.parts.map { part in try note[part].map { try keys.seal($0, table: table, column: part, row: row).bytes } }
    }

    private static func openNote(_ row: any SQLRow, table: String, id: UUID, keys: RealmKeys) throws -> ConsultationNote {
        func part(_ name: String) throws -> String? { try keys.openColumn(row, table: table, column: name, id: id) }
        return ConsultationNote(subjective: try part("subjective"), objective: try part("objective"),
                                assessment: try part("assessment"), plan: try part("plan"))
    }

    private static func open(_ row: any SQLRow, keys: RealmKeys) throws -> ConsultationRecord {
        let id = try row.decode(column: "id", as: UUID.self)
        return ConsultationRecord(
            id: ConsultationID(id),
            patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
            appointment: try row.decode(column: "appointment_id", as: UUID?.self).map(AppointmentID.init),
            practitioner: UserID(try row.decode(column: "practitioner_id", as: UUID.self)),
            note: try openNote(row, table: table, id: id, keys: keys),
            createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
            updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)),
            signedAt: try row.decode(column: "signed_at_ms", as: Int64?.self).map(Date.init(milliseconds:)),
            amendments: [])
    }
}
