import AuditLedger
import Foundation
import Keyring
import SQLKit

/// Deleting a clinic on request: nobody can sign in to it any more, and its keys are destroyed
/// (crypto-shredding), so every sealed value it held is unreadable in this database and in every
/// copy or backup of it. Its rows stay as ciphertext nobody can open; its audit chain stays
/// verifiable (it names ids, never personal data) and records the deletion.
struct ClinicDeletion: Sendable {
    let store: Store
    let keyring: RealmKeyring
    /// Where the clinic's files are; their keys die with the clinic's, the bytes are removed to free the space.
    let files: FileFolder

    struct Outcome: Sendable, Equatable {
        /// The clinic's keys were wrapped by a root key, now destroyed: copies of the database are unreadable too.
        let shreddedEverywhere: Bool
        /// The clinic had already been deleted; this run only finished destroying its keys.
        let alreadyDeleted: Bool
    }

    enum Refusal: Error, Equatable { case noSuchClinic }

    /// In order, each step safe to repeat: the clinic closed, its memberships, invitations and
    /// wrapped keys removed, and the deletion recorded, in one transaction; then its root key
    /// file removed, and its files' bytes. Killed between the two, running it again removes them.
    func delete(_ clinic: UUID, context: RequestContext) async throws -> Outcome {
        let hadRootKey = keyring.rootKeys.contains(clinic)
        let alreadyDeleted = try await store.transaction(realm: clinic) { tx -> Bool in
            let row = try await tx.sql.raw("SELECT status FROM clinics WHERE id = \(bind: clinic)").first()
            guard let row else { throw Refusal.noSuchClinic }
            if try row.decode(column: "status", as: String.self) == "deleted" { return true }
            let keys = try await tx.sql.raw("""
                SELECT COUNT(*) AS count FROM realm_keys WHERE realm_id = \(bind: clinic) AND kek_id <> \(bind: RealmRootKey.keyID)
                """).first()?.decode(column: "count", as: Int64.self) ?? 0
            try await tx.sql.raw("DELETE FROM realm_keys WHERE realm_id = \(bind: clinic)").run()
            try await Ledger.append(context.event(chain: clinic, action: "clinic.delete", resourceType: "clinic", resource: clinic,
                                                  detail: "keys=destroyed" + (keys > 0 ? " legacy_wrapped=\(keys)" : "")), in: tx)
            try await tx.enter(realm: IdentityRealm.id)
            try await tx.sql.raw("UPDATE clinics SET status = 'deleted' WHERE id = \(bind: clinic)").run()
            try await tx.sql.raw("DELETE FROM memberships WHERE clinic_id = \(bind: clinic)").run()
            try await tx.sql.raw("DELETE FROM invitations WHERE clinic_id = \(bind: clinic)").run()
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "clinic.delete", resourceType: "clinic", resource: clinic), in: tx)
            return false
        }
        try keyring.destroy(clinic)
        try? await files.removeClinic(clinic)
        return Outcome(shreddedEverywhere: hadRootKey, alreadyDeleted: alreadyDeleted)
    }
}
