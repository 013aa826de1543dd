import ClinicDomain
import Crypto
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
    let breachedRange: BreachedPasswordRange?
    /// Tells this running instance from others on the same database.
    let instanceID = UUID()
    /// Outsider-caused events recorded once per subject a minute.
    let repeatedEvents = RepeatedEvents()
    /// Memberships kept while their versions hold.
    let memberships = MembershipCache()

    init(settings: ServerSettings, store: Store, keyring: RealmKeyring, passwordPolicy: PasswordPolicy,
         threadPool: NIOThreadPool, decoyPasswordHash: String, breachedRange: BreachedPasswordRange?) {
        self.settings = settings
        self.store = store
        self.keyring = keyring
        self.passwordPolicy = passwordPolicy
        self.threadPool = threadPool
        self.decoyPasswordHash = decoyPasswordHash
        self.breachedRange = breachedRange
    }

    /// Stored hashes are `$ck1$` + bcrypt of a SHA-256 pre-hash. bcrypt reads only 72 bytes;
    /// the pre-hash (44 base64 characters) makes every byte of a 128-character password count,
    /// and the prefix versions the scheme so it can change without a reset.
    static let hashScheme = "$ck1$"

    static func preHash(_ password: String) -> String {
        var input = Data("clinickeep.password.v1\u{0}".utf8)
        input.append(Data(password.utf8))
        return Data(SHA256.hash(data: input)).base64EncodedString()
    }

    /// bcrypt off the event loop: it costs hundreds of milliseconds of one core.
    func hashPassword(_ password: String) async throws -> String {
        let cost = settings.bcryptCost
        return try await threadPool.runIfActive { Self.hashScheme + (try Bcrypt.hash(Self.preHash(password), cost: cost)) }
    }

    func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await threadPool.runIfActive {
            if hash.hasPrefix(Self.hashScheme) {
                return (try? Bcrypt.verify(Self.preHash(password), created: String(hash.dropFirst(Self.hashScheme.count)))) ?? false
            }
            return (try? Bcrypt.verify(password, created: hash)) ?? false
        }
    }

    /// A new password: the length rule (`minimumLength` when a clinic lowered it), the shipped
    /// list, then, when configured, the range service.
    func checkNewPassword(_ password: String, field: String, minimumLength: Int? = nil) async throws {
        try passwordPolicy.check(password, field: field, minimumLength: minimumLength)
        if let breachedRange, await breachedRange.check(password) == .breached {
            throw ClinicError.invalid(field, "This password has appeared in a data breach; choose another.", code: "password_breached")
        }
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
