import ClinicDomain
import Foundation
import SQLKit

struct BreakGlassGrant: Sendable {
    let id: UUID
    let patient: PatientID
    let user: UserID
    let reason: String
    let createdAt: Date
    let expiresAt: Date
}

/// Break-glass under case-based access: a practitioner not involved with a patient states why
/// they need the record, and reads it for `CaseAccess.breakGlassLifetime`. The reason is
/// sealed like the record itself; every grant is in the clinic's chain and on the owners' list.
struct BreakGlass: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "break_glass_grants"

    func open(patient: PatientID, reason: String) async throws -> BreakGlassGrant {
        let reason = try CaseAccess.validatedReason(reason)
        let scope = self.scope, keyring = services.keyring
        let id = UUID(), now = Date()
        let expires = now.addingTimeInterval(CaseAccess.breakGlassLifetime)
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await ClinicReferences.requirePatientInPath(patient, clinic: scope.realm, in: tx)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            try await tx.sql.raw("""
                INSERT INTO break_glass_grants (id, clinic_id, patient_id, user_id, reason, created_at_ms, expires_at_ms)
                VALUES (\(bind: id), \(bind: scope.realm), \(bind: patient.rawValue), \(bind: scope.actor.rawValue),
                        \(bind: try keys.seal(reason, table: Self.table, column: "reason", row: id).bytes),
                        \(bind: now.milliseconds), \(bind: expires.milliseconds))
                """).run()
            try await Ledger.append(scope.event("patient.break-glass", resourceType: "patient", resource: patient.rawValue,
                                                detail: "grant=\(id) expires=\(expires.milliseconds)"), in: tx)
            return BreakGlassGrant(id: id, patient: patient, user: scope.actor, reason: reason,
                                   createdAt: Date(milliseconds: now.milliseconds), expiresAt: Date(milliseconds: expires.milliseconds))
        }
    }

    /// The clinic's grants, newest first, with their reasons: what the owners review.
    func list(paging: Paging) async throws -> [BreakGlassGrant] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx in
            let rows = try await tx.sql.raw("""
                SELECT id, patient_id, user_id, reason, created_at_ms, expires_at_ms FROM break_glass_grants
                WHERE clinic_id = \(bind: scope.realm) ORDER BY created_at_ms DESC, id LIMIT \(bind: paging.limit) OFFSET \(bind: paging.offset)
                """).all()
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let grants = try rows.map { row in
                let id = try row.decode(column: "id", as: UUID.self)
                return BreakGlassGrant(id: id, patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
                                       user: UserID(try row.decode(column: "user_id", as: UUID.self)),
                                       reason: try keys.openRequiredColumn(row, table: Self.table, column: "reason", id: id),
                                       createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                                       expiresAt: Date(milliseconds: try row.decode(column: "expires_at_ms", as: Int64.self)))
            }
            try await Ledger.append(scope.event("break-glass.list", resourceType: "clinic", resource: scope.realm,
                                                detail: PatientRecordListing.shownPatients(grants.map(\.patient))), in: tx)
            return grants
        }
    }
}
