import ClinicDomain
import Foundation
import SQLKit

/// A clinic's sign-in policy: which roles must use a second factor, and the password minimum
/// (below the default only when every role must use one, as NIST SP 800-63B rev 4 allows).
struct ClinicSecuritySettings: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    struct Policy: Sendable, Equatable {
        var mfaRequiredRoles: Set<Role>
        var passwordMinimum: Int
        /// Practitioners read only their own patients' clinical records (`CaseAccess`).
        var caseBasedAccess: Bool
    }

    func read() async throws -> Policy {
        guard let row = try await services.store.global.raw("""
            SELECT mfa_required_roles, password_minimum, case_based_access FROM clinics WHERE id = \(bind: scope.realm)
            """).first() else { throw ClinicError.notFound }
        return Policy(mfaRequiredRoles: Role.parseList(try row.decode(column: "mfa_required_roles", as: String.self)) ?? Set(Role.allCases),
                      passwordMinimum: Int(try row.decode(column: "password_minimum", as: Int64.self)),
                      caseBasedAccess: try row.decode(column: "case_based_access", as: Int64.self) != 0)
    }

    static func validate(_ policy: Policy, defaultMinimum: Int, maximum: Int) throws(ClinicError) {
        guard (PasswordPolicy.lowestMinimumWithMFA...maximum).contains(policy.passwordMinimum) else {
            throw .invalid("passwordMinimumLength", "Use a minimum from \(PasswordPolicy.lowestMinimumWithMFA) to \(maximum).")
        }
        if policy.passwordMinimum < defaultMinimum, policy.mfaRequiredRoles != Set(Role.allCases) {
            throw .invalid("passwordMinimumLength",
                           "A minimum below \(defaultMinimum) is allowed only when every role must use two-factor authentication.",
                           code: "mfa_required_for_short_passwords")
        }
    }

    func update(to policy: Policy) async throws {
        let scope = self.scope
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                UPDATE clinics SET mfa_required_roles = \(bind: Role.storedList(policy.mfaRequiredRoles)),
                    password_minimum = \(bind: Int64(policy.passwordMinimum)), case_based_access = \(bind: Int64(policy.caseBasedAccess ? 1 : 0))
                WHERE id = \(bind: scope.realm)
                """).run()
            try await Ledger.append(scope.event("clinic.security.update", resourceType: "clinic", resource: scope.realm,
                                                detail: "mfa-roles=\(Role.storedList(policy.mfaRequiredRoles)) password-minimum=\(policy.passwordMinimum) case-based-access=\(policy.caseBasedAccess)"), in: tx)
        }
    }
}
