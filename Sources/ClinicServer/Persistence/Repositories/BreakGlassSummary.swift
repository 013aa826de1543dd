import ClinicDomain
import Foundation
import SQLKit

/// Once a day, each clinic's owners are told by e-mail how many times each staff member broke
/// the glass since the last summary, with a link to the page that lists them. The mail names
/// staff ids and counts only: no patient, no reason (mail leaves the server).
struct BreakGlassSummary: Sendable {
    let services: ClinicServices

    static let period: TimeInterval = 24 * 3600
    static let settle: TimeInterval = 60

    /// Summarises every clinic whose last summary is a day old or more; answers how many
    /// summaries were queued. A clinic with nothing to report is marked and mailed nothing.
    /// `only` narrows the run to one clinic.
    func run(now: Date = Date(), only: UUID? = nil) async throws -> Int {
        let due = try await services.store.global.raw("""
            SELECT id FROM clinics WHERE status = 'active'
                AND (break_glass_summary_at_ms IS NULL OR break_glass_summary_at_ms <= \(bind: now.addingTimeInterval(-Self.period).milliseconds))
            """).all().map { try $0.decode(column: "id", as: UUID.self) }.filter { only == nil || $0 == only }
        var sent = 0
        for clinic in due where try await summarise(clinic, now: now) { sent += 1 }
        return sent
    }

    private func summarise(_ clinic: UUID, now moment: Date) async throws -> Bool {
        // The window ends a minute back, so a grant stamped just before and committed just after
        // this run is in the next summary rather than in neither.
        let now = moment.addingTimeInterval(-Self.settle)
        let services = self.services, outbox = Outbox(services: services)
        let link = services.settings.linkBaseURL + "/clinics/\(clinic.uuidString.lowercased())/break-glass"
        return try await services.store.transaction(realm: clinic) { tx in
            // Taken with the row, so two instances summarising at once mail the owners once.
            let lock: SQLQueryString = tx.kind == .postgres ? " FOR UPDATE" : ""
            guard let row = try await tx.sql.raw("""
                SELECT break_glass_summary_at_ms FROM clinics WHERE id = \(bind: clinic)
                    AND (break_glass_summary_at_ms IS NULL OR break_glass_summary_at_ms <= \(bind: now.addingTimeInterval(-Self.period).milliseconds))
                """ + lock).first() else { return false }
            let since = try row.decode(column: "break_glass_summary_at_ms", as: Int64?.self) ?? now.addingTimeInterval(-Self.period).milliseconds
            try await tx.sql.raw("UPDATE clinics SET break_glass_summary_at_ms = \(bind: now.milliseconds) WHERE id = \(bind: clinic)").run()
            let counts = try await tx.sql.raw("""
                SELECT user_id, COUNT(*) AS grants FROM break_glass_grants
                WHERE clinic_id = \(bind: clinic) AND created_at_ms > \(bind: since) AND created_at_ms <= \(bind: now.milliseconds)
                GROUP BY user_id ORDER BY user_id
                """).all().map { (try $0.decode(column: "user_id", as: UUID.self), try $0.decode(column: "grants", as: Int64.self)) }
            guard !counts.isEmpty else { return false }
            let owners = try await tx.sql.raw("SELECT user_id, roles FROM memberships WHERE clinic_id = \(bind: clinic)").all().compactMap { row in
                Role.parseList(try row.decode(column: "roles", as: String.self))?.contains(.owner) == true
                    ? try row.decode(column: "user_id", as: UUID.self) : nil
            }
            let total = counts.reduce(0) { $0 + $1.1 }
            try await Ledger.append(RequestContext(actor: nil, address: nil, requestID: "break-glass-summary").event(
                chain: clinic, action: "break-glass.summary", resourceType: "clinic", resource: clinic,
                detail: "grants=\(total) owners=\(owners.count)"), in: tx)
            let lines = counts.map { "  staff member \($0.0.uuidString.lowercased()): \($0.1) time\($0.1 == 1 ? "" : "s")" }.joined(separator: "\n")
            let body = """
                In the last day, staff of your clinic opened the record of a patient they are not involved with
                (break-glass) \(total) time\(total == 1 ? "" : "s"):

                \(lines)

                Who, which patient and why are on this page (sign in first): \(link)
                """
            try await tx.enter(realm: IdentityRealm.id)
            let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
            for owner in owners {
                guard let person = try await tx.sql.raw("SELECT email FROM users WHERE id = \(bind: owner)").first() else { continue }
                let email = try keys.openRequiredColumn(person, table: "users", column: "email", id: owner)
                try await outbox.enqueue(to: email, subject: "ClinicKeep: break-glass in the last day", body: body, kind: "break-glass-summary", in: tx)
            }
            return true
        }
    }
}
