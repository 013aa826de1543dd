import ClinicDomain
import Foundation
import Vapor

/// `clinickeep analytics ...`
struct AnalyticsCommands: AsyncCommandGroup {
    var help: String { "Pseudonymised analytics: a clinic's visits without anything that names a patient." }
    var commands: [String: any AnyAsyncCommand] { ["export": AnalyticsExportCommand()] }
}

/// `clinickeep analytics export --clinic ID --out FILE`: the same CSV file as the API's
/// `analytics/export`, written by the operator for the clinic's owners (one audit event, with
/// no person as its actor).
struct AnalyticsExportCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinic", help: "The clinic whose visits to export")
        var clinic: String?
        @Option(name: "out", help: "The CSV file to write")
        var out: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Writes a clinic's visits, pseudonymised and banded so that no fewer than k patients (CLINICKEEP_ANALYTICS_K, at least 5) share a description, to a CSV file (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let text = signature.clinic, let clinic = UUID(uuidString: text) else {
            throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2)
        }
        guard let out = signature.out, !out.isEmpty else { throw CommandFailure("--out takes the CSV file to write", exitCode: 2) }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let services = context.application.clinicServices
        let result: AnalyticsExport.Result
        do {
            result = try await AnalyticsExport(clinic: ClinicID(clinic), context: RequestContext(actor: nil, address: nil, requestID: "cli-analytics-export"),
                                               services: services).rows(k: settings.analyticsK)
        } catch let error as ClinicError where error.status == 404 {
            throw CommandFailure("no active clinic \(clinic.uuidString.lowercased()) on this database", exitCode: 2)
        }
        // Written beside the target and moved into place: a reader never sees half a file, and
        // only the operator's account may read it.
        let target = URL(fileURLWithPath: out)
        let partial = target.deletingLastPathComponent().appendingPathComponent("." + target.lastPathComponent + ".partial")
        // Created 0600 by open(2) itself (never readable by others, not even for a moment), and
        // never through a link someone left at that name.
        try? FileManager.default.removeItem(at: partial)
        let descriptor = open(partial.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw CommandFailure("cannot write \(out)") }
        let file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try file.write(contentsOf: Data(try ReportCSV.text(result.rows).utf8))
            try file.synchronize()
            try file.close()
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw CommandFailure("cannot write \(out)")
        }
        // rename(2) replaces an older file in one step, where FileManager's replace needs one there.
        guard rename(partial.path, target.path) == 0 else {
            try? FileManager.default.removeItem(at: partial)
            throw CommandFailure("cannot write \(out)")
        }
        context.console.print("wrote \(result.rows.count - 1) visits of \(result.patients) patients to \(out); \(result.leftOut) patients left out (fewer than \(max(settings.analyticsK, 5)) shared their description)")
    }
}

/// `clinickeep reporting ...`
struct ReportingCommands: AsyncCommandGroup {
    var help: String { "PostgreSQL reporting roles: a BI tool's role reads one clinic's pseudonymised visits and nothing else." }
    var commands: [String: any AnyAsyncCommand] { ["grant": ReportingGrantCommand(), "refresh": ReportingRefreshCommand()] }
}

/// `clinickeep reporting refresh`: what `serve` does every hour, now (after a busy day, say).
struct ReportingRefreshCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String { "Makes every reporting role's table again from its clinic's visits, as serve does hourly (same environment as serve)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: false)
        let count = try await ReportingGrants(services: context.application.clinicServices)
            .refreshAll(context: RequestContext(actor: nil, address: nil, requestID: "cli-reporting-refresh"), logger: context.application.logger)
        context.console.print("\(count) reporting tables refreshed")
    }
}

/// `clinickeep reporting grant --role NAME --clinic ID`: gives an existing PostgreSQL role (made
/// by the operator, not a superuser, not one of the server's) the table `reporting.v_<clinic>_<role>`
/// of that clinic's pseudonymised visits, refreshed hourly by `serve`. Granting again renews the
/// pseudonyms' key. Needs CLINICKEEP_MIGRATION_DATABASE_URL (the tables' owner).
struct ReportingGrantCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "role", help: "The PostgreSQL role the BI tool connects as")
        var role: String?
        @Option(name: "clinic", help: "The clinic whose visits it may read")
        var clinic: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Gives a PostgreSQL role one clinic's pseudonymised visits as reporting.v_<clinic>_<role>, and nothing else (same environment as serve, with CLINICKEEP_MIGRATION_DATABASE_URL)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let text = signature.clinic, let clinic = UUID(uuidString: text) else {
            throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2)
        }
        guard let role = signature.role, !role.isEmpty else { throw CommandFailure("--role takes a PostgreSQL role name", exitCode: 2) }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let appRole = settings.databaseURL.flatMap { URLComponents(string: $0)?.user }.map { $0.removingPercentEncoding ?? $0 }
        let rows: Int
        do {
            rows = try await ReportingGrants(services: context.application.clinicServices)
                .grant(role: role, clinic: ClinicID(clinic), appRole: appRole,
                       context: RequestContext(actor: nil, address: nil, requestID: "cli-reporting-grant"))
        } catch let refusal as ReportingGrants.Refusal {
            throw CommandFailure(refusal.description, exitCode: 2)
        } catch let missing as OwnerRoleMissing {
            throw CommandFailure(missing.description, exitCode: 2)
        }
        context.console.print("\(role) may read reporting.\(ReportingGrants.table(role: role, clinic: ClinicID(clinic))): \(rows) visits now, refreshed hourly by serve")
    }
}
