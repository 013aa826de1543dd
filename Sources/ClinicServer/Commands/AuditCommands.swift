import AuditLedger
import Foundation
import Vapor

/// `clinickeep audit ...`
struct AuditCommands: AsyncCommandGroup {
    var help: String { "Checks the audit ledger, exports its signed checkpoints, answers breach questions, purges what is past retention." }
    var commands: [String: any AnyAsyncCommand] {
        ["verify": VerifyCommand(), "checkpoints": CheckpointsCommand(), "breach-scope": BreachScopeCommand(), "purge": PurgeCommand()]
    }
}

/// `clinickeep audit verify [--clinic ID] [--checkpoints FILE]`: recomputes every hash chain and
/// checks every checkpoint's signature. Exit 0 with a summary when all hold; exit 1 naming the
/// first bad entry otherwise.
struct VerifyCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinic", help: "Verify only this clinic's chain")
        var clinic: String?
        @Option(name: "checkpoints", help: "A file written by `audit checkpoints --export`: also catch a ledger rewritten or cut back since")
        var checkpoints: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Recomputes every hash chain and checks every signed checkpoint (and an exported copy); exit 1 naming the first bad entry (same environment as serve; see serve --help)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        var only: UUID?
        if let text = signature.clinic {
            guard let id = UUID(uuidString: text) else { throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2) }
            only = id
        }
        var exported: CheckpointExport?
        if let path = signature.checkpoints {
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)", exitCode: 2) }
            do {
                exported = try CheckpointExport.decode(data)
            } catch let malformed as CheckpointExport.Malformed {
                throw CommandFailure("\(path): \(malformed.description)", exitCode: 2)
            }
        }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let store = context.application.clinicServices.store
        if let exported {
            let replaced = exported.keysDiffering(from: store.checkpointing.keys)
            guard replaced.isEmpty else {
                throw CommandFailure("audit ledger FAILED verification: the checkpoint-signing key "
                    + replaced.map { "v\($0)" }.joined(separator: ", ") + " differs from the exported one (replaced since the export)")
            }
        }
        let report = try await LedgerVerification(store: store).run(only: only, exported: exported)
        if let fault = report.fault {
            throw CommandFailure("audit ledger FAILED verification: first bad entry is \(fault)")
        }
        for chain in report.chains {
            // Entries after the last checkpoint rest on the hash chain alone until the next one is signed.
            let unsigned = chain.head - (chain.signedThrough ?? 0)
            let signing = unsigned > 0 ? "; \(unsigned) after the last signed checkpoint" : ""
            context.console.print("chain \(chainName(chain.chain)): \(chain.entries) entries verified\(signing)")
        }
        let against = exported.map { " and the \($0.checkpoints.count) exported checkpoints" } ?? ""
        context.console.print("audit ledger verified: \(report.chains.count) chains, \(report.totalEntries) entries, every hash, head and signed checkpoint\(against) holds")
    }
}

/// `clinickeep audit checkpoints [--export FILE]`: checkpoints every chain's head now, then
/// lists the checkpoints or writes them, with the public keys, to a file for safekeeping.
struct CheckpointsCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "export", help: "Write every checkpoint and the public signing keys to this file (JSON)")
        var export: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String { "Signs a checkpoint of every chain's head, then lists them or exports them to keep elsewhere (same environment as serve)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let store = context.application.clinicServices.store
        var all: [Checkpoint] = []
        for chain in try await LedgerVerification.chainIDs(store: store) {
            // The export should reach the present: a chain cut back after it is then caught.
            try await store.checkpointing.checkpointHead(of: chain, store: store, force: true)
            let checkpoints = try await store.transaction(realm: chain) { tx in try await LedgerVerification.checkpoints(of: chain, in: tx) }
            if let last = checkpoints.last {
                context.console.print("chain \(chainName(chain)): \(checkpoints.count) checkpoints, the last at entry \(last.sequence), \(Timestamp.string(Date(milliseconds: last.signedAtMilliseconds)))")
            }
            all += checkpoints
        }
        guard let path = signature.export else { return }
        let export = CheckpointExport(exportedAtMs: Date().milliseconds, keys: store.checkpointing.keys, checkpoints: all)
        do {
            try export.encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure("cannot write \(path)", exitCode: 2)
        }
        context.console.print("exported \(all.count) checkpoints and \(export.keys.count) public keys to \(path); keep it away from this server")
    }
}

/// `clinickeep audit breach-scope --user ID --from T --to T [--json]`: the patients a person's
/// account was used to see in a period, per clinic (ids and counts only), to feed a
/// notification under the Notifiable Data Breaches scheme. The asking is recorded in every
/// clinic it names.
struct BreachScopeCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "user", help: "The account whose use is in question (a user id)")
        var user: String?
        @Option(name: "from", help: "Start of the period (ISO 8601, e.g. 2026-11-01T00:00:00Z)")
        var from: String?
        @Option(name: "to", help: "End of the period (ISO 8601)")
        var to: String?
        @Flag(name: "json", help: "Print JSON instead of lines")
        var json: Bool
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String { "Lists, per clinic, the patients an account saw or changed in a period (ids and counts), for a breach notification." }

    /// Ids in lower case, as the API writes them.
    struct ClinicScopeReport: Encodable {
        let clinic: String
        let events: Int
        let patients: [String]
    }

    /// The user's events in one chain and the patients they name, read in bounded batches (each
    /// its own short transaction), so memory stays flat and the clinic keeps working meanwhile.
    static func scope(of user: UUID, in chain: UUID, from: Date, to: Date, store: Store) async throws -> (events: Int, patients: Set<UUID>) {
        var events = 0
        var patients = Set<UUID>()
        var after: Int64 = 0
        while true {
            let start = after
            let batch = try await store.transaction(realm: chain) { tx in
                try await tx.sql.raw("""
                    SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events
                    WHERE chain_id = \(bind: chain) AND actor_id = \(bind: user) AND sequence > \(bind: start)
                    AND occurred_at_ms >= \(bind: from.milliseconds) AND occurred_at_ms <= \(bind: to.milliseconds)
                    ORDER BY sequence LIMIT \(unsafeRaw: String(LedgerVerification.batchSize))
                    """).all().map(Ledger.entry(from:))
            }
            for entry in batch { patients.formUnion(PatientsTouched.patients(in: entry.event)) }
            events += batch.count
            guard batch.count == LedgerVerification.batchSize, let last = batch.last else { return (events, patients) }
            after = last.sequence
        }
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let userText = signature.user, let user = UUID(uuidString: userText) else {
            throw CommandFailure("--user takes a user id (a UUID)", exitCode: 2)
        }
        guard let fromText = signature.from, let toText = signature.to,
              let from = try? Timestamp.parse(fromText, field: "from"), let to = try? Timestamp.parse(toText, field: "to"), from <= to else {
            throw CommandFailure("--from and --to take ISO 8601 times, the start first (e.g. 2026-11-01T00:00:00Z)", exitCode: 2)
        }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let store = context.application.clinicServices.store
        var reports: [ClinicScopeReport] = []
        for chain in try await LedgerVerification.chainIDs(store: store) where chain != IdentityRealm.id {
            let found = try await Self.scope(of: user, in: chain, from: from, to: to, store: store)
            if found.events > 0 {
                try await store.transaction(realm: chain) { tx in
                    try await Ledger.append(AuditEvent(chain: chain, actor: nil, action: "audit.breach_scope", resourceType: "user", resource: user,
                                                       outcome: .success, detail: "patients=\(found.patients.count) events=\(found.events)"), in: tx)
                }
            }
            if found.events > 0 {
                reports.append(ClinicScopeReport(clinic: chain.uuidString.lowercased(), events: found.events,
                                                 patients: found.patients.map { $0.uuidString.lowercased() }.sorted()))
            }
        }
        if signature.json {
            struct Answer: Encodable { let user: String; let from: String; let to: String; let clinics: [ClinicScopeReport] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Answer(user: user.uuidString.lowercased(), from: Timestamp.string(from), to: Timestamp.string(to), clinics: reports))
            context.console.print(String(decoding: data, as: UTF8.self))
            return
        }
        context.console.print("breach scope of user \(user.uuidString.lowercased()) from \(Timestamp.string(from)) to \(Timestamp.string(to))")
        for report in reports {
            context.console.print("clinic \(report.clinic): \(report.patients.count) patients in \(report.events) events")
            for patient in report.patients { context.console.print("  patient \(patient)") }
        }
        let total = Set(reports.flatMap(\.patients)).count
        context.console.print("total: \(total) patients in \(reports.count) clinics")
    }
}

/// How the commands name a chain.
func chainName(_ chain: UUID) -> String {
    chain == AuditEvent.identityChain ? "identity" : chain.uuidString.lowercased()
}
