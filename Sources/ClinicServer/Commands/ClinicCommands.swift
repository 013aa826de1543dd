import Foundation
import Vapor

/// `clinickeep clinic ...`
struct ClinicCommands: AsyncCommandGroup {
    var help: String { "Clinic lifecycle: delete a clinic on request, destroying its keys." }
    var commands: [String: any AnyAsyncCommand] { ["delete": ClinicDeleteCommand()] }
}

/// `clinickeep clinic delete --clinic ID --yes`: closes the clinic and destroys its keys, so
/// nothing it held can be read again, here or in any copy or backup of the database.
struct ClinicDeleteCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "clinic", help: "The clinic to delete")
        var clinic: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Deletes a clinic: nobody signs in to it again and its keys are destroyed, so its data is unreadable everywhere, backups of the database included. Needs --yes (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let text = signature.clinic, let clinic = UUID(uuidString: text) else {
            throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2)
        }
        // --yes (ConsoleKit's own flag) answers for a script; at a terminal the operator is asked.
        let refusal = CommandFailure("deleting a clinic destroys its keys and cannot be undone; take a final export or backup first, then add --yes", exitCode: 2)
        switch context.console.confirmOverride {
        case true?: break
        case false?: throw refusal
        case nil:
            guard isatty(STDIN_FILENO) == 1,
                  context.console.confirm("Delete clinic \(clinic.uuidString.lowercased()) and destroy its keys? Its data cannot be read again.")
            else { throw refusal }
        }
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: false)
        let services = context.application.clinicServices
        let deletion = ClinicDeletion(store: services.store, keyring: services.keyring, files: FileFolder(root: services.settings.filesPath))
        let name = clinic.uuidString.lowercased()
        let outcome: ClinicDeletion.Outcome
        do {
            outcome = try await deletion.delete(clinic, context: RequestContext(actor: nil, address: nil, requestID: "cli-clinic-delete"))
        } catch ClinicDeletion.Refusal.noSuchClinic {
            throw CommandFailure("no clinic \(name) on this database", exitCode: 2)
        }
        if outcome.alreadyDeleted {
            context.console.print("clinic \(name) was already deleted; its keys are destroyed")
        } else if outcome.shreddedEverywhere {
            context.console.print("clinic \(name) deleted: its root key is destroyed, so its data cannot be read here or in any copy of the database")
        } else {
            context.console.print("clinic \(name) deleted and its keys removed from the database; its keys predate root keys, so a copy of the database taken before `keys rewrap` can still be opened with the key-encryption key")
        }
    }
}
