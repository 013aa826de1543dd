import ClinicDomain
import Foundation
import Keyring
import Logging
import SQLKit

/// Accounts and invitations stored before addresses were folded to Unicode NFC: their address
/// and blind index are written again in NFC (review round 2, A17), so the composed and
/// decomposed forms of one address stop being two accounts, and an invitation's
/// `already_member` check sees the member whichever form was typed. Runs at every start; it opens
/// each account's address once (microseconds each) and writes only those that change. An
/// account whose NFC form another account already holds is left as it is and reported: which
/// of the two is the real one is the operator's call.
struct EmailIndexNormalisation: Sendable {
    let services: ClinicServices
    let logger: Logger

    @discardableResult
    func run() async throws -> Int {
        let keyring = services.keyring
        let (changed, clashes) = try await services.store.transaction(realm: IdentityRealm.id) { tx -> (Int, Int) in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            var changed = 0, clashes = 0
            for table in ["users", "invitations"] {
                for row in try await tx.sql.raw("SELECT id, email FROM \(unsafeRaw: table)").all() {
                    let id = try row.decode(column: "id", as: UUID.self)
                    let email = try keys.openRequiredColumn(row, table: table, column: "email", id: id)
                    let folded = EmailAddress.folded(email)
                    guard !EmailAddress.sameScalars(folded, email) else { continue }
                    let index = keys.blindIndex(folded, kind: .email)
                    if table == "users", try await tx.sql.raw("SELECT id FROM users WHERE email_index = \(bind: index)").first() != nil {
                        clashes += 1
                        continue
                    }
                    try await tx.sql.raw("""
                        UPDATE \(unsafeRaw: table) SET email = \(bind: try keys.seal(folded, table: table, column: "email", row: id).bytes),
                            email_index = \(bind: index) WHERE id = \(bind: id)
                        """).run()
                    changed += 1
                }
            }
            return (changed, clashes)
        }
        if changed > 0 { logger.notice("e-mail addresses folded to NFC", metadata: ["rows": .stringConvertible(changed)]) }
        if clashes > 0 {
            logger.warning("accounts whose NFC address another account holds were left as they are",
                           metadata: ["accounts": .stringConvertible(clashes)])
        }
        return changed
    }
}
