import Vapor

/// `clinickeep migrate`: applies migrations (as the owner's role when one is configured) and exits.
struct MigrateClinicCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String { "Applies database migrations and exits (same flags and environment as serve; see serve --help)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: true)
        context.console.print("Migrations applied (\(settings.usesPostgres ? "PostgreSQL" : "SQLite at \(settings.sqlitePath)")).")
    }
}
