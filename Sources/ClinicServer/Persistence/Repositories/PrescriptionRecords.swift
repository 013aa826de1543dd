import ClinicDomain
import Foundation
import Keyring
import SQLKit

struct PrescriptionRecord: Sendable {
    let id: PrescriptionID
    let patient: PatientID
    let consultation: ConsultationID?
    let prescriber: UserID
    let content: PrescriptionContent
    let createdAt: Date
}

/// What a prescriber submits: medications, and optionally a formula taken from the library
/// (`source`) and adjusted by the parts given in `adjusted`.
struct PrescriptionRequest: Sendable {
    let patient: PatientID
    let consultation: ConsultationID?
    let medications: [MedicationSubmission]?
    let formulaSource: FormulaID?
    let formula: FormulaSubmission?
}

/// Prescriptions: written once and kept as written (no route changes one, and the database
/// refuses). The whole content is one sealed JSON value.
struct PrescriptionRecords: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "prescriptions"
    private static let columns = "id, patient_id, consultation_id, prescriber_id, content, created_at_ms"

    func create(_ request: PrescriptionRequest) async throws -> PrescriptionRecord {
        let scope = self.scope, keyring = services.keyring
        let id = PrescriptionID.random()
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<PrescriptionRecord> in
            try await ClinicReferences.requirePatient(request.patient, clinic: scope.realm, in: tx)
            // Writing for a patient needs involvement already: writing is never a way to become involved.
            if let refusal = try await PatientInvolvement.refusal(scope, patient: request.patient, .clinicalNote, in: tx) { return .refused(refusal) }
            if let consultation = request.consultation {
                let row = try await tx.sql.raw("""
                    SELECT patient_id FROM consultations WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: consultation.rawValue)
                    """).first()
                guard let row, try row.decode(column: "patient_id", as: UUID.self) == request.patient.rawValue else {
                    throw ClinicError.invalid("consultationId", "No consultation of this patient with this id in this clinic.", code: "unknown_reference")
                }
            }
            let formula = try await Self.resolveFormula(request, clinic: scope.realm, in: tx)
            let content = try PrescriptionContent.validated(medications: request.medications, formula: formula,
                                                            formulaSource: request.formulaSource?.description)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let json = String(decoding: try JSONEncoder().encode(content), as: UTF8.self)
            let sealed = try keys.seal(json, table: Self.table, column: "content", row: id.rawValue).bytes
            let now = Date().milliseconds
            try await tx.sql.raw("""
                INSERT INTO prescriptions (id, clinic_id, patient_id, consultation_id, prescriber_id, content, created_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: request.patient.rawValue), \(bind: request.consultation?.rawValue),
                        \(bind: scope.actor.rawValue), \(bind: sealed), \(bind: now))
                """).run()
            if let formula = request.formulaSource {
                try await tx.sql.raw("""
                    INSERT INTO formula_prescriptions (id, clinic_id, formula_id, prescriber_id, prescribed_quarter_ms)
                    VALUES (\(bind: UUID()), \(bind: scope.realm), \(bind: formula.rawValue), \(bind: scope.actor.rawValue), \(bind: CreateReportTallies.quarter(now)))
                    """).run()
            }
            try await Ledger.append(scope.event("prescription.create", resourceType: "prescription", resource: id.rawValue,
                                                detail: "patient=\(request.patient)"), in: tx)
            return .done(PrescriptionRecord(id: id, patient: request.patient, consultation: request.consultation, prescriber: scope.actor,
                                      content: content, createdAt: Date(milliseconds: now)))
        }.get()
    }

    func find(_ id: PrescriptionID) async throws -> PrescriptionRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<PrescriptionRecord> in
            guard let row = try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM prescriptions WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).first() else {
                try await Ledger.append(scope.event("prescription.read", resourceType: "prescription", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let patient = PatientID(try row.decode(column: "patient_id", as: UUID.self))
            if let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .clinicalNote, in: tx) {
                return .refused(refusal)
            }
            let record = try Self.open(row, keys: try await keyring.keys(for: scope.realm, in: tx))
            try await Ledger.append(scope.event("prescription.read", resourceType: "prescription", resource: id.rawValue,
                                                detail: "patient=\(record.patient)"), in: tx)
            return .done(record)
        }.get()
    }

    /// Newest first; narrowed under case-based access as consultations are (`ConsultationRecords.list`).
    func list(patient: PatientID?, paging: Paging) async throws -> [PrescriptionRecord] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<[PrescriptionRecord]> in
            if let patient, let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .clinicalNote, in: tx) {
                return .refused(refusal)
            }
            let query = PatientRecordListing.newestFirst(from: "prescriptions", columns: Self.columns, clinic: scope.realm, patient: patient,
                                                         narrowedTo: PatientInvolvement.listFilter(scope, .clinicalNote), paging: paging)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let records = try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            try await Ledger.append(scope.event("prescription.list", resourceType: "prescription",
                                                detail: PatientRecordListing.shownPatients(records.map(\.patient))), in: tx)
            return .done(records)
        }.get()
    }

    /// The library formula, with whatever the prescriber changed laid over it; or the
    /// formula as submitted when none is named.
    private static func resolveFormula(_ request: PrescriptionRequest, clinic: UUID, in tx: ScopedSQL) async throws -> HerbalFormula? {
        guard let source = request.formulaSource else { return try request.formula?.validated() }
        guard let base = try await Formulary.find(source, clinic: clinic, in: tx) else {
            throw ClinicError.invalid("formulaId", "No formula with this id in this clinic's library.", code: "unknown_reference")
        }
        let adjusted = request.formula
        return try FormulaSubmission(
            name: adjusted?.name ?? base.formula.name,
            herbs: adjusted?.herbs ?? base.formula.herbs.map { HerbDoseSubmission(herb: $0.herb, grams: $0.grams) },
            instructions: adjusted?.instructions ?? base.formula.instructions).validated()
    }

    private static func open(_ row: any SQLRow, keys: RealmKeys) throws -> PrescriptionRecord {
        let id = try row.decode(column: "id", as: UUID.self)
        let json = try keys.openRequiredColumn(row, table: table, column: "content", id: id)
        guard let content = try? JSONDecoder().decode(PrescriptionContent.self, from: Data(json.utf8)) else { throw ClinicError.integrityFailure }
        return PrescriptionRecord(
            id: PrescriptionID(id),
            patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
            consultation: try row.decode(column: "consultation_id", as: UUID?.self).map(ConsultationID.init),
            prescriber: UserID(try row.decode(column: "prescriber_id", as: UUID.self)),
            content: content,
            createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)))
    }
}
