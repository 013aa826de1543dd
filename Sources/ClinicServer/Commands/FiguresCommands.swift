import Foundation
import Vapor

/// `clinickeep figures ...`
struct FiguresCommands: AsyncCommandGroup {
    var help: String { "The daily sums and patients' first and last visits the practice's figures are read from." }
    var commands: [String: any AnyAsyncCommand] { ["rebuild": FiguresRebuildCommand()] }
}

/// `clinickeep figures rebuild --clinic ID | --all`: cuts a clinic's daily sums (and each
/// patient's first and last visits) again from its appointments, invoices and payments. The server keeps them as it goes; this is for after
/// something changed the rows behind its back (an edit in SQL, a partial restore) or moved where
/// the clinic's days start (an update of the system's time-zone rules). It reads no sealed
/// value and changes nothing but the sums, so it writes no audit event.
struct FiguresRebuildCommand: AsyncCommand {
    let signature = ClinicsSignature()
    var help: String {
        "Recomputes the daily sums and patients' first and last visits behind the practice's figures from each clinic's appointments, invoices and payments (same environment as serve; safe beside a live server)."
    }

    func run(using context: CommandContext, signature: ClinicsSignature) async throws {
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: false)
        let store = context.application.clinicServices.store
        let clinics = try await signature.clinics(store: store, required: true)
        for (index, clinic) in clinics.enumerated() {
            // One transaction a clinic: a booking made meanwhile waits, then counts on top.
            try await store.transaction(realm: clinic) { tx in try await DailyFigures.rebuild(clinic: clinic, in: tx.sql) }
            context.console.print("figures: clinic \(index + 1)/\(clinics.count) \(clinic.uuidString.lowercased()) rebuilt")
        }
    }
}
