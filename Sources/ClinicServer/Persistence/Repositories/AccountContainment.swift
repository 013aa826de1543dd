import AuditLedger
import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// The operator's containment of an account during an incident (DC-22): lock it (every session
/// ends at once and sign-in is refused, answered as a wrong password is, until unlocked), or end
/// its sessions. Each step is an event in the identity chain, the operator as actor-less.
struct AccountContainment: Sendable {
    let services: ClinicServices

    enum Step: String, Sendable {
        case lock = "user.lock"
        case unlock = "user.unlock"
        case revokeSessions = "session.revoke-all"
    }

    /// Answers how many sessions ended; nil when no account has the address.
    func apply(_ step: Step, to email: EmailAddress, requestID: String) async throws -> Int? {
        let keyring = services.keyring, sessions = SessionStore(services: services)
        return try await services.store.transaction(realm: IdentityRealm.id) { tx -> Int? in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            guard let row = try await tx.sql.raw("""
                SELECT id FROM users WHERE email_index = \(bind: keys.blindIndex(email.value, kind: .email))
                """).first() else { return nil }
            let user = UserID(try row.decode(column: "id", as: UUID.self))
            switch step {
            case .lock:
                try await tx.sql.raw("UPDATE users SET locked_at_ms = \(bind: Date().milliseconds) WHERE id = \(bind: user.rawValue)").run()
            case .unlock:
                try await tx.sql.raw("UPDATE users SET locked_at_ms = NULL WHERE id = \(bind: user.rawValue)").run()
            case .revokeSessions:
                break
            }
            let ended = step == .unlock ? 0 : try await sessions.endAll(of: user, in: tx)
            try await Ledger.append(AuditEvent(chain: IdentityRealm.id, actor: nil, action: step.rawValue, resourceType: "user",
                                               resource: user.rawValue, outcome: .success, requestID: requestID,
                                               detail: "by=operator sessions-ended=\(ended)"), in: tx)
            return ended
        }
    }
}
