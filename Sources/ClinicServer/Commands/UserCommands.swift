import ClinicDomain
import Foundation
import Vapor

/// `clinickeep user lock|unlock --email E` and `clinickeep user sessions revoke --email E`: the
/// operator's containment of an account during an incident.
struct UserCommands: AsyncCommandGroup {
    var help: String { "Containment: lock an account (sessions end, sign-in refused), unlock it, or end its sessions." }
    var commands: [String: any AnyAsyncCommand] {
        ["lock": UserContainmentCommand(step: .lock), "unlock": UserContainmentCommand(step: .unlock), "sessions": UserSessionsCommands()]
    }
}

struct UserSessionsCommands: AsyncCommandGroup {
    var help: String { "An account's sessions." }
    var commands: [String: any AnyAsyncCommand] { ["revoke": UserContainmentCommand(step: .revokeSessions)] }
}

struct UserContainmentCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "email", help: "The account's e-mail address")
        var email: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let step: AccountContainment.Step
    let signature = Signature()

    var help: String {
        switch step {
        case .lock: "Locks an account: every session ends at once and sign-in is refused (answered as a wrong password) until unlocked. Audited."
        case .unlock: "Unlocks an account locked with `user lock`. Audited."
        case .revokeSessions: "Ends every session of an account at once. Audited."
        }
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let email: EmailAddress
        do {
            email = try EmailAddress(parsing: signature.email ?? "")
        } catch {
            throw CommandFailure("--email takes the account's e-mail address", exitCode: 2)
        }
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: false)
        let requestID = "cli-user-" + String(UUID().uuidString.prefix(8)).lowercased()
        guard let ended = try await AccountContainment(services: context.application.clinicServices).apply(step, to: email, requestID: requestID) else {
            throw CommandFailure("no account has that e-mail address", exitCode: 2)
        }
        switch step {
        case .lock: context.console.print("account locked: \(ended) sessions ended; sign-in is refused until `clinickeep user unlock`")
        case .unlock: context.console.print("account unlocked: it can sign in again")
        case .revokeSessions: context.console.print("\(ended) sessions ended")
        }
    }
}
