import AuditLedger
import Foundation
import Vapor

/// `clinickeep audit purge [--clinic ID] [--dry-run]`: removes audit events older than the
/// retention period (`CLINICKEEP_AUDIT_RETENTION`, default 7 years, never under 12 months),
/// each chain behind a signed cut and recorded as an `audit.purge` event in that chain. Needs
/// the tables' owner on PostgreSQL (`CLINICKEEP_MIGRATION_DATABASE_URL`).
struct PurgeCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinic", help: "Purge only this clinic's chain")
        var clinic: String?
        @Flag(name: "dry-run", help: "Only say what would be removed")
        var dryRun: Bool
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Removes audit events past the retention period (CLINICKEEP_AUDIT_RETENTION, default 7y) behind a signed cut; the chain stays verifiable (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        var only: UUID?
        if let text = signature.clinic {
            guard let id = UUID(uuidString: text) else { throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2) }
            only = id
        }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let store = context.application.clinicServices.store
        let boundary = settings.auditRetention.boundary(before: Date())
        let retention = AuditRetention(store: store)
        let console = context.console
        console.print("retention \(settings.auditRetention): events before \(Timestamp.string(boundary)) are past it")
        var total: Int64 = 0
        let chains = if let only { [only] } else { try await LedgerVerification.chainIDs(store: store) }
        for chain in chains {
            let name = chainName(chain)
            if signature.dryRun {
                let plan = try await retention.plan(chain: chain, olderThan: boundary)
                console.print("chain \(name): \(plan.removable) entries would be removed" + (plan.removable > 0 ? " (through entry \(plan.through))" : ""))
                total += plan.removable
                continue
            }
            let plan: AuditRetention.Plan
            do {
                plan = try await retention.purge(chain: chain, olderThan: boundary) { deleted in
                    if deleted % 100_000 < AuditRetention.batchSize { console.print("chain \(name): \(deleted) entries deleted so far") }
                }
            } catch let refusal as AuditRetention.Refusal {
                throw CommandFailure("refusing to purge chain \(name): \(refusal)")
            } catch let missing as OwnerRoleMissing {
                throw CommandFailure("audit purge deletes ledger entries, which the server's role may not: \(missing)", exitCode: 2)
            }
            console.print(plan.removable > 0
                ? "chain \(name): removed \(plan.removable) entries through entry \(plan.through), behind a signed cut; the purge is recorded in the chain"
                : "chain \(name): nothing past retention")
            total += plan.removable
        }
        console.print(signature.dryRun ? "\(total) entries would be removed" : "audit purge done: \(total) entries removed; run `audit verify` to check")
    }
}
