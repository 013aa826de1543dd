import ClinicDomain
import Foundation
import SQLKit

/// Patients' care teams: the practitioners who, under case-based access, read a patient's
/// clinical record without having booked or treated them. Owners and admins keep them; a
/// team is replaced whole, and every read and change is in the clinic's chain.
struct CareTeams: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    /// More than a clinic's whole clinical staff would be a mistake, not a team.
    static let maximumMembers = 50

    func members(of patient: PatientID) async throws -> [UserID] {
        let scope = self.scope
        // Who treats whom is part of the record, not the staff list support may read.
        guard scope.supportGrant == nil else { throw ClinicError.forbidden() }
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await ClinicReferences.requirePatientInPath(patient, clinic: scope.realm, in: tx)
            let members = try await Self.members(of: patient, scope: scope, in: tx)
            try await Ledger.append(scope.event("care-team.read", resourceType: "patient", resource: patient.rawValue,
                                                detail: "members=\(members.count)"), in: tx)
            return members
        }
    }

    /// Replaces the patient's team; each id must be a member of this clinic holding the
    /// practitioner role.
    func replace(of patient: PatientID, with practitioners: [UserID]) async throws -> [UserID] {
        guard practitioners.count <= Self.maximumMembers else {
            throw ClinicError.invalid("practitionerIds", "A care team has at most \(Self.maximumMembers) practitioners.")
        }
        let scope = self.scope, team = Array(Set(practitioners))
        // An admin who also practises may not widen their own reach: only an owner adds themselves.
        if team.contains(scope.actor), !scope.roles.contains(.owner) {
            throw ClinicError.forbidden("Only an owner may add themselves to a care team; ask an owner.")
        }
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await ClinicReferences.requirePatientInPath(patient, clinic: scope.realm, in: tx)
            // Two replacements at once take turns on the patient's row (PostgreSQL; SQLite's
            // write transactions already do).
            if tx.kind == .postgres {
                try await tx.sql.raw("SELECT id FROM patients WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: patient.rawValue) FOR UPDATE").run()
            }
            for practitioner in team {
                try await ClinicReferences.requirePractitioner(practitioner, clinic: scope.realm, in: tx, field: "practitionerIds")
            }
            try await tx.sql.raw("""
                DELETE FROM care_team_members WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: patient.rawValue)
                """).run()
            let now = Date().milliseconds
            for practitioner in team {
                try await tx.sql.raw("""
                    INSERT INTO care_team_members (clinic_id, patient_id, practitioner_id, added_by, added_at_ms)
                    VALUES (\(bind: scope.realm), \(bind: patient.rawValue), \(bind: practitioner.rawValue), \(bind: scope.actor.rawValue), \(bind: now))
                    """).run()
            }
            let members = try await Self.members(of: patient, scope: scope, in: tx)
            try await Ledger.append(scope.event("care-team.update", resourceType: "patient", resource: patient.rawValue,
                                                detail: "practitioners=" + members.map(\.description).joined(separator: ",")), in: tx)
            return members
        }
    }

    private static func members(of patient: PatientID, scope: ClinicScope, in tx: ScopedSQL) async throws -> [UserID] {
        try await tx.sql.raw("""
            SELECT practitioner_id FROM care_team_members WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: patient.rawValue)
            ORDER BY added_at_ms, practitioner_id
            """).all().map { UserID(try $0.decode(column: "practitioner_id", as: UUID.self)) }
    }
}
