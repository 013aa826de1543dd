import Foundation
import Keyring
import NIOConcurrencyHelpers
import Vapor

/// `clinickeep keys ...`: each clinic's key versions, run by the operator beside a live server.
struct KeysCommands: AsyncCommandGroup {
    var help: String {
        "Clinic key versions: see them, add one, move every sealed value to it, destroy an unused one; replace the key-encryption key."
    }
    var commands: [String: any AnyAsyncCommand] {
        ["status": KeysStatusCommand(), "rotate": KeysRotateCommand(), "reencrypt": KeysReencryptCommand(), "retire": KeysRetireCommand(),
         "rewrap": KeysRewrapCommand()]
    }
}

/// Which clinics a key command works on: `--clinic ID` or `--all`.
protocol ClinicSelectingSignature: DataDirectorySignature {
    var clinic: String? { get }
    var all: Bool { get }
}

extension ClinicSelectingSignature {
    func clinics(store: Store, required: Bool) async throws -> [UUID] {
        if let clinic {
            guard !all else { throw CommandFailure("give --clinic ID or --all, not both", exitCode: 2) }
            guard let id = UUID(uuidString: clinic) else { throw CommandFailure("--clinic takes a clinic id (a UUID)", exitCode: 2) }
            guard let row = try await store.global.raw("SELECT status FROM clinics WHERE id = \(bind: id)").first() else {
                throw CommandFailure("no clinic \(id.uuidString.lowercased()) on this database", exitCode: 2)
            }
            guard try row.decode(column: "status", as: String.self) != "deleted" else {
                throw CommandFailure("clinic \(id.uuidString.lowercased()) was deleted; its keys are destroyed", exitCode: 2)
            }
            return [id]
        }
        guard all || !required else { throw CommandFailure("name the clinics: --clinic ID or --all", exitCode: 2) }
        // A deleted clinic has no keys left to show or move.
        return try await store.global.raw("SELECT id FROM clinics WHERE status <> 'deleted' ORDER BY created_at_ms, id").all()
            .map { try $0.decode(column: "id", as: UUID.self) }
    }
}

extension ClinicSelectingSignature {
    /// Configures the application as `serve` would (without migrating) and hands back the key operations.
    func rotation(_ context: CommandContext) async throws -> KeyRotation {
        try await ClinicKeepApp.configure(context.application, settings: try settings(), migrate: false)
        let services = context.application.clinicServices
        return KeyRotation(store: services.store, keyring: services.keyring, requestID: "cli-keys-" + String(UUID().uuidString.prefix(8)).lowercased())
    }
}

/// `--clinic ID | --all`, shared by the key commands that work clinic by clinic.
struct ClinicsSignature: ClinicSelectingSignature {
    @Option(name: "clinic", help: "This clinic (its id)")
    var clinic: String?
    @Flag(name: "all", help: "Every clinic (the default of `keys status`)")
    var all: Bool
    @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
    var dataDir: String?
}

struct KeysStatusCommand: AsyncCommand {
    typealias Signature = ClinicsSignature
    let signature = Signature()
    var help: String { "Each clinic's key versions: which is current, and how many sealed values each still protects (same environment as serve)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let rotation = try await signature.rotation(context)
        for clinic in try await signature.clinics(store: rotation.store, required: false) {
            context.console.print("clinic \(clinic.uuidString.lowercased())")
            for version in try await rotation.status(of: clinic) {
                let role = version.isCurrent ? "current" : (version.sealedValues == 0 ? "unused, can be retired" : "still in use")
                context.console.print("  \(version.version): \(role); \(version.sealedValues) sealed values, \(version.patients) patients indexed;"
                                      + " created \(Timestamp.string(version.createdAt)), wrapped by \(version.keyEncryptionKey)")
            }
        }
    }
}

struct KeysRotateCommand: AsyncCommand {
    typealias Signature = ClinicsSignature
    let signature = Signature()
    var help: String {
        "Adds a new data-key and blind-index-key version and makes it current; running servers seal with it within \(Int(RealmKeyring.refreshInterval)) s. Old versions keep opening (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let rotation = try await signature.rotation(context)
        for clinic in try await signature.clinics(store: rotation.store, required: true) {
            let version = try await rotation.rotate(clinic)
            context.console.print("clinic \(clinic.uuidString.lowercased()): \(version) is now current; run `keys reencrypt` to move existing values to it")
        }
    }
}

struct KeysReencryptCommand: AsyncCommand {
    typealias Signature = ClinicsSignature
    let signature = Signature()
    var help: String {
        "Moves every sealed value and blind index to the clinic's current key version, in batches, while the server keeps serving; safe to stop and run again (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let rotation = try await signature.rotation(context)
        let console = context.console
        var unreadable = 0
        for clinic in try await signature.clinics(store: rotation.store, required: true) {
            let name = clinic.uuidString.lowercased()
            let started = Date()
            let lastLine = NIOLockedValueBox(Date.distantPast)
            let done = try await rotation.reencrypt(clinic) { progress in
                // A line a second at most, and one at the end of each table.
                let now = Date()
                let due = lastLine.withLockedValue { last -> Bool in
                    guard progress.tableDone || now.timeIntervalSince(last) >= 1 else { return false }
                    last = now
                    return true
                }
                guard due else { return }
                console.print("clinic \(name) \(progress.table): \(progress.rowsChecked) rows checked, \(progress.rowsResealed) re-sealed")
            }
            let seconds = max(Date().timeIntervalSince(started), 0.001)
            console.print("clinic \(name): \(done.rowsChecked) rows checked, \(done.rowsResealed) re-sealed in \(String(format: "%.1f", seconds)) s")
            for row in done.unreadable { console.print("clinic \(name): \(row) did not open and was left as it is") }
            unreadable += done.unreadable.count
        }
        if unreadable > 0 {
            throw CommandFailure("\(unreadable) rows did not open (altered, or sealed by a key no longer held); run `audit verify` and look at them")
        }
    }
}

struct KeysRetireCommand: AsyncCommand {
    struct Signature: ClinicSelectingSignature {
        @Option(name: "clinic", help: "The clinic whose old key version is destroyed")
        var clinic: String?
        @Option(name: "version", help: "The version to destroy, e.g. 1 or v1")
        var version: String?
        @Flag(name: "all", help: "Every clinic")
        var all: Bool
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Destroys an old key version once no sealed value uses it (refused otherwise, and for the current version) (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let text = signature.version.map { $0.hasPrefix("v") ? String($0.dropFirst()) : $0 } ?? ""
        guard let number = UInt32(text), number > 0 else { throw CommandFailure("--version takes a key version, e.g. 1", exitCode: 2) }
        let version = KeyVersion(rawValue: number)
        let rotation = try await signature.rotation(context)
        for clinic in try await signature.clinics(store: rotation.store, required: true) {
            do {
                try await rotation.retire(clinic, version: version)
                context.console.print("clinic \(clinic.uuidString.lowercased()): \(version) destroyed")
            } catch let refusal as KeyRotation.Refusal {
                throw CommandFailure("clinic \(clinic.uuidString.lowercased()): not retired: \(refusal)")
            }
        }
    }
}

struct KeysRewrapCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Makes a new key-encryption key, wraps every realm root key and signing key again under it, then retires the old one; safe to run again if stopped (same environment as serve)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await ClinicKeepApp.configure(context.application, settings: try signature.settings(), migrate: false)
        let services = context.application.clinicServices
        guard let provider = services.keyring.provider as? any RewrappableKeyProvider else {
            throw CommandFailure("this key provider's key-encryption key is replaced in the provider itself", exitCode: 2)
        }
        let console = context.console
        let rewrap = KeyRewrap(store: services.store, keyring: services.keyring, provider: provider,
                               requestID: "cli-keys-" + String(UUID().uuidString.prefix(8)).lowercased())
        do {
            let summary = try await rewrap.run { console.print($0) }
            let old = summary.retired.isEmpty ? "nothing" : summary.retired.joined(separator: ", ")
            if provider is KeyFileProvider {
                console.print("rewrap done: everything is wrapped by \(summary.current); retired \(old) (removed from the key file)")
            } else {
                console.print("rewrap done: everything is wrapped by \(summary.current); nothing is wrapped by \(old) any more: disable it in KMS once every server runs with the new key")
            }
        } catch let left as KeyRewrap.StillWrapped {
            throw CommandFailure(left.description)
        }
    }
}
