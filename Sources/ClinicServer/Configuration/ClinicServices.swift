import ClinicDomain
import Foundation
import Keyring
import Vapor

/// What every handler needs, built once at start and passed explicitly: no globals.
public final class ClinicServices: Sendable {
    public let settings: ServerSettings
    public let store: Store
    let keyring: RealmKeyring
    let passwordPolicy: PasswordPolicy
    let threadPool: NIOThreadPool
    /// A real hash of nothing, checked when an e-mail is unknown so that a wrong e-mail and a
    /// wrong password take the same time.
    let decoyPasswordHash: String

    init(settings: ServerSettings, store: Store, keyring: RealmKeyring, passwordPolicy: PasswordPolicy,
         threadPool: NIOThreadPool, decoyPasswordHash: String) {
        self.settings = settings
        self.store = store
        self.keyring = keyring
        self.passwordPolicy = passwordPolicy
        self.threadPool = threadPool
        self.decoyPasswordHash = decoyPasswordHash
    }

    /// bcrypt off the event loop: it costs hundreds of milliseconds of one core.
    func hashPassword(_ password: String) async throws -> String {
        let cost = settings.bcryptCost
        return try await threadPool.runIfActive { try Bcrypt.hash(password, cost: cost) }
    }

    func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await threadPool.runIfActive { (try? Bcrypt.verify(password, created: hash)) ?? false }
    }
}

extension Application {
    private struct ServicesKey: StorageKey { typealias Value = ClinicServices }

    public var clinicServices: ClinicServices {
        get {
            guard let services = storage[ServicesKey.self] else { fatalError("configure(_:settings:) has not run") }
            return services
        }
        set { storage[ServicesKey.self] = newValue }
    }
}

extension Request {
    var services: ClinicServices { application.clinicServices }
}
