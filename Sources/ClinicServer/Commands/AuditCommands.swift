import AuditLedger
import Foundation
import Vapor

/// `clinickeep audit ...`
struct AuditCommands: AsyncCommandGroup {
    var help: String { "Checks the audit ledger." }
    var commands: [String: any AnyAsyncCommand] { ["verify": VerifyCommand()] }
}

/// `clinickeep audit verify [--clinic ID]`: recomputes every hash chain. Exit 0 with a summary
/// when all hold; exit 1 naming the first bad entry otherwise.
struct VerifyCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinic", help: "Verify only this clinic's chain")
        var clinic: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String { "Recomputes every hash chain; exit 1 naming the first bad entry (same environment as serve; see serve --help)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        var only: UUID?
        if let text = signature.clinic {
            guard let id = UUID(uuidString: text) else { throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2) }
            only = id
        }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let report = try await LedgerVerification(store: context.application.clinicServices.store).run(only: only)
        if let fault = report.fault {
            throw CommandFailure("audit ledger FAILED verification: first bad entry is \(fault)")
        }
        for chain in report.chains {
            let name = chain.chain == AuditEvent.identityChain ? "identity" : chain.chain.uuidString.lowercased()
            context.console.print("chain \(name): \(chain.entries) entries verified")
        }
        context.console.print("audit ledger verified: \(report.chains.count) chains, \(report.totalEntries) entries, every hash and head holds")
    }
}
