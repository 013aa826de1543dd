import ClinicDomain
import Foundation
import Vapor

/// `clinickeep support-access request|login`: the operator's side of support access by the
/// clinic's consent. The clinic's owners grant, refuse and revoke in the app.
struct SupportAccessCommands: AsyncCommandGroup {
    var help: String { "Support access, only by the clinic's consent: ask a clinic for it, and sign in once it is granted." }
    var commands: [String: any AnyAsyncCommand] { ["request": SupportAccessRequestCommand(), "login": SupportAccessLoginCommand()] }
}

/// `clinickeep support-access request --clinic ID --hours N --reason TEXT [--operator NAME]`
struct SupportAccessRequestCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinic", help: "The clinic to ask")
        var clinic: String?
        @Option(name: "hours", help: "How long the access lasts once granted (1 to 72)")
        var hours: Int?
        @Option(name: "reason", help: "Why: the clinic's owners read this before they decide")
        var reason: String?
        @Option(name: "operator", help: "Who is asking (default: the login name running this command)")
        var operatorName: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Asks a clinic for read-only support access; its owners see the request in the app and grant or refuse it. Prints the request's id (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let text = signature.clinic, let clinic = ClinicID(string: text) else {
            throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2)
        }
        let environment = ProcessInfo.processInfo.environment
        let operatorName = signature.operatorName ?? environment["SUDO_USER"] ?? environment["USER"] ?? ""
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: false)
        let grants = SupportGrants(services: context.application.clinicServices)
        let id: UUID
        do {
            id = try await grants.request(clinic: clinic, operatorName: operatorName, hours: signature.hours ?? 0, reason: signature.reason ?? "",
                                          requestID: "cli-support-" + String(UUID().uuidString.prefix(8)).lowercased())
        } catch let error as ClinicError {
            throw CommandFailure(error.status == 404 ? "no active clinic \(clinic) on this database" : "--\(error.field ?? "input"): \(error.message)",
                                 exitCode: 2)
        }
        context.console.print("support access requested: \(id.uuidString.lowercased())")
        context.console.print("the clinic's owners decide in the app; once granted, `clinickeep support-access login --grant \(id.uuidString.lowercased())`")
    }
}

/// `clinickeep support-access login --grant ID`
struct SupportAccessLoginCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "grant", help: "The request's id, as `support-access request` printed it")
        var grant: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Prints a one-time sign-in link (15 minutes) for the read-only support identity of a granted, unexpired request (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let text = signature.grant, let grant = UUID(uuidString: text) else {
            throw CommandFailure("--grant takes the request's id (a UUID)", exitCode: 2)
        }
        let settings = try signature.settings()
        try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
        let issued: (token: String, grant: SupportGrant)
        do {
            issued = try await SupportGrants(services: context.application.clinicServices)
                .issueSignInToken(grant: grant, requestID: "cli-support-" + String(UUID().uuidString.prefix(8)).lowercased())
        } catch let error as ClinicError {
            throw CommandFailure(error.status == 404 ? "no support request \(text) on this database" : error.message, exitCode: 2)
        }
        // The link is for the operator's eyes: the console, never the log.
        context.console.print("sign in within 15 minutes, once: \(settings.linkBaseURL)/support-sign-in?token=\(issued.token)")
        if let expires = issued.grant.expiresAt {
            context.console.print("the clinic's grant ends at \(Timestamp.string(expires))")
        }
    }
}
