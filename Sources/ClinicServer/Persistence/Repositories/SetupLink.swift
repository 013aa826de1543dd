import Foundation
import SQLKit

/// The one-time link that lets the first owner set up a fresh install when sign-up is closed.
/// Only its hash is stored; a new start while no one has signed up replaces it.
struct SetupLink: Sendable {
    let services: ClinicServices

    /// Issues a new token when the install has no person yet; nil otherwise.
    func issueIfUnclaimed() async throws -> String? {
        let directory = IdentityDirectory(services: services)
        guard try await !directory.hasAnyPerson() else { return nil }
        let token = SecureToken.generate()
        let sql = services.store.global
        try await sql.raw("DELETE FROM setup_tokens WHERE used_at_ms IS NULL").run()
        try await sql.raw("INSERT INTO setup_tokens (token_hash, created_at_ms) VALUES (\(bind: SecureToken.hash(token)), \(bind: Date().milliseconds))").run()
        return token
    }

    func isValid(_ token: String) async throws -> Bool {
        guard SecureToken.isWellFormed(token) else { return false }
        return try await services.store.global.raw("""
            SELECT token_hash FROM setup_tokens WHERE token_hash = \(bind: SecureToken.hash(token)) AND used_at_ms IS NULL
            """).first() != nil
    }

    /// Marks the token used; false when it was not valid (or another request used it first).
    func claim(_ token: String) async throws -> Bool {
        guard SecureToken.isWellFormed(token) else { return false }
        return try await services.store.global.raw("""
            UPDATE setup_tokens SET used_at_ms = \(bind: Date().milliseconds)
            WHERE token_hash = \(bind: SecureToken.hash(token)) AND used_at_ms IS NULL RETURNING token_hash
            """).first() != nil
    }

    /// Undoes a claim whose setup did not complete, while no one has signed up yet.
    func release(_ token: String) async throws {
        guard SecureToken.isWellFormed(token), try await !IdentityDirectory(services: services).hasAnyPerson() else { return }
        try await services.store.global.raw("""
            UPDATE setup_tokens SET used_at_ms = NULL WHERE token_hash = \(bind: SecureToken.hash(token))
            """).run()
    }
}
