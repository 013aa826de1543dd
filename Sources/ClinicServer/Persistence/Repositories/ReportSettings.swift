import ClinicDomain
import Foundation
import SQLKit

/// What a clinic's owners allow others to see of its figures: read with every report (inside
/// its transaction, so a change applies to the next one), changed by owners, each change on the
/// clinic's chain.
enum ReportSettings {
    static func visibility(clinic: UUID, in tx: ScopedSQL) async throws -> ReportVisibility {
        guard let row = try await tx.sql.raw("""
            SELECT report_practitioner_revenue, report_admin_revenue FROM clinics WHERE id = \(bind: clinic)
            """).first() else { return .standard }
        return ReportVisibility(practitionersSeeOwnRevenue: try row.decode(column: "report_practitioner_revenue", as: Int64.self) != 0,
                                adminsSeeRevenue: try row.decode(column: "report_admin_revenue", as: Int64.self) != 0)
    }

    /// The clinic's switches: no personal data, so no audit event (as for the security policy).
    static func read(scope: ClinicScope, services: ClinicServices) async throws -> ReportVisibility {
        try await services.store.read(realm: scope.realm) { tx in try await visibility(clinic: scope.realm, in: tx) }
    }

    /// Sets the switches a request names; the others stay.
    static func update(scope: ClinicScope, services: ClinicServices, practitionersSeeOwnRevenue: Bool?,
                       adminsSeeRevenue: Bool?) async throws -> ReportVisibility {
        try await services.store.transaction(realm: scope.realm) { tx in
            var visibility = try await visibility(clinic: scope.realm, in: tx)
            if let practitionersSeeOwnRevenue { visibility.practitionersSeeOwnRevenue = practitionersSeeOwnRevenue }
            if let adminsSeeRevenue { visibility.adminsSeeRevenue = adminsSeeRevenue }
            try await tx.sql.raw("""
                UPDATE clinics SET report_practitioner_revenue = \(bind: Int64(visibility.practitionersSeeOwnRevenue ? 1 : 0)),
                    report_admin_revenue = \(bind: Int64(visibility.adminsSeeRevenue ? 1 : 0)) WHERE id = \(bind: scope.realm)
                """).run()
            try await Ledger.append(scope.event("report-settings.update", resourceType: "clinic", resource: scope.realm,
                                                detail: "practitionersSeeOwnRevenue=\(visibility.practitionersSeeOwnRevenue) "
                                                    + "adminsSeeRevenue=\(visibility.adminsSeeRevenue)"), in: tx)
            return visibility
        }
    }
}
