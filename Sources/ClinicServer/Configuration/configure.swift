import ClinicDomain
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Keyring
import Leaf
import LeafKit
import Vapor

/// Builds a ClinicKeep application from its settings. Shared by every command and by the tests.
public enum ClinicKeepApp {
    public struct Startup: Sendable {
        public let keyFileCreated: Bool
        public let keyFilePath: String
        public let certificateGenerated: Bool
        public let certificatePath: String?
    }

    static let ownerDatabase = DatabaseID(string: "owner")

    @discardableResult
    public static func configure(_ app: Application, settings: ServerSettings, migrate: Bool) async throws -> Startup {
        try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        for warning in try settings.checkTransport() { app.logger.warning("\(warning)") }
        let (provider, keyFileCreated) = try KeyProviders.make(settings, client: app.client)

        let kind = try useDatabases(app, settings: settings)
        let migrator = settings.migrationDatabaseURL == nil ? nil : ownerDatabase
        app.migrations.add(CreateIdentityTables(), CreateTenantTables(), EnableRowLevelSecurity(), CreateInvitations(), CreateAccountSecurity(),
                           CreateClinicalRecords(), CreateAuditCheckpoints(), CreateAuditRetention(), AllowLockedReseal(),
                           AllowKeyRewrap(), CreateIntegrationSecrets(), CreateFileStore(),
                           CreateAPITokens(), CreateContactsAndProducts(), CreateInvoices(), CreateWorkingHours(), KeyAuditChains(), ListAuditChains(),
                           RecordSessionAssurance(), AddAccountLock(), ProtectIdentityTables(), AddCaseBasedAccess(), AddSupportAccess(),
                           AddAccessVersions(), CreatePatientMessages(), AddCommunicationSettings(), CreateReportTallies(), AddReportVisibility(), AddPatientDemographics(), CreateReportingGrants(), AddFigureIndexes(), CreateDailyFigures(), CreatePatientVisits(), to: migrator)
        if migrate { try await runMigrations(app, settings: settings, kind: kind) }

        app.routes.defaultMaxBodySize = "64kb"
        app.middleware = Middlewares()
        app.middleware.use(ServerRequestID())
        app.middleware.use(SecurityHeadersMiddleware(hsts: settings.tlsEnabled))
        app.middleware.use(RequestLogMiddleware())
        app.middleware.use(ErrorResponseMiddleware())
        app.middleware.use(FileMiddleware(publicDirectory: resourcesPath + "/Public/", defaultFile: nil))

        // The default limits refuse any path with a dot-directory in it, and resources live
        // under .build when run from a checkout; the sandbox still confines reads to them.
        app.leaf.sources = .singleSource(NIOLeafFiles(fileio: app.fileio, limits: [.toSandbox, .requireExtensions],
                                                      sandboxDirectory: resourcesPath, viewDirectory: resourcesPath + "/Views/"))
        app.views.use(.leaf)
        app.leaf.cache.isEnabled = app.environment.isRelease

        let checkpointing = AuditCheckpointing(everyEvents: settings.auditCheckpointEvents, interval: settings.auditCheckpointInterval)
        let store = Store(databases: app.databases, kind: kind, logger: app.logger, checkpointing: checkpointing, owner: migrator)
        let keyring = RealmKeyring(provider: provider, rootKeys: try RealmRootKeyStore(directory: settings.keystorePath), logger: app.logger)
        try await keyring.prepareIdentityRealm(store: store)
        let signing = try await AuditSigningKeys.load(store: store, provider: provider, pins: SigningKeyPins(directory: settings.keystorePath),
                                                      logger: app.logger)
        checkpointing.install(signer: signing.signer, keys: signing.keys, chainKeys: signing.chainKeys)
        try await checkpointing.keyLegacyChains(store: store)
        let cost = settings.bcryptCost
        // The decoy takes the same path through `verifyPassword` as a stored hash.
        let decoy = try await app.threadPool.runIfActive { try Bcrypt.hash(SecureToken.generate(), cost: cost) }
        app.clinicServices = ClinicServices(settings: settings, store: store, keyring: keyring, passwordPolicy: try passwordPolicy(),
                                            threadPool: app.threadPool, decoyPasswordHash: ClinicServices.hashScheme + decoy,
                                            breachedRange: settings.breachedRangeURL.map { BreachedPasswordRange(baseURL: $0, client: app.client, logger: app.logger) })
        try await EmailIndexNormalisation(services: app.clinicServices, logger: app.logger).run()
        registerRoutes(app)
        app.middleware.use(AllowedMethods(app.routes.all))

        app.http.server.configuration.hostname = settings.hostname
        app.http.server.configuration.port = settings.port
        var certificate: (generated: Bool, path: String)?
        if settings.tlsEnabled {
            let tls = try TLSMaterial.load(settings)
            app.http.server.configuration.tlsConfiguration = tls.configuration
            certificate = (tls.generatedNow, tls.certificatePath)
        }
        return Startup(keyFileCreated: keyFileCreated, keyFilePath: settings.keyFilePath,
                       certificateGenerated: certificate?.generated ?? false, certificatePath: certificate?.path)
    }

    static func registerRoutes(_ app: Application) {
        // Health and the security policy need no session: they never touch the database, even
        // when the browser sends its cookie (a load balancer's probe costs nothing). Everything
        // else learns who is asking first.
        HealthAPI.register(app)
        let asking = app.grouped(SessionAuthenticator())
        let api = asking.grouped("api", "v1")
        AuthAPI.register(api)
        PatientsAPI.register(api)
        AppointmentsAPI.register(api)
        ConsultationsAPI.register(api)
        PrescriptionsAPI.register(api)
        AuditAPI.register(api)
        StaffAPI.register(api)
        MeAPI.register(api)
        ClinicSecurityAPI.register(api)
        CaseAccessAPI.register(api)
        PatientMessagesAPI.register(api)
        CommunicationsAPI.register(api)
        KPIsAPI.register(api)
        AnalyticsAPI.register(api)
        ExportsAPI.register(api)
        SupportAccessAPI.register(api)
        IntegrationSecretsAPI.register(api)
        FilesAPI.register(api)
        APITokensAPI.register(api)
        ContactsAPI.register(api)
        ProductsAPI.register(api)
        InvoicesAPI.register(api)
        WorkingHoursAPI.register(api)
        PasswordResetAPI.register(api)
        OpenAPIDocument.register(api)
        Pages.register(asking)
    }

    static func useDatabases(_ app: Application, settings: ServerSettings) throws -> DatabaseKind {
        guard let url = settings.databaseURL else {
            // One connection serves every request in turn; a burst waits its turn for up to 30 s
            // (the driver's default of 10 s failed requests of a busy two-core machine), and
            // past that the answer is 503 with Retry-After, never a 500.
            app.databases.use(.sqlite(.file(settings.sqlitePath), connectionPoolTimeout: .seconds(30)), as: .sqlite)
            return .sqlite
        }
        app.databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: 4, sqlLogLevel: .trace), as: .psql, isDefault: true)
        if let owner = settings.migrationDatabaseURL {
            app.databases.use(try .postgres(url: owner, maxConnectionsPerEventLoop: 1, sqlLogLevel: .trace), as: ownerDatabase, isDefault: false)
        }
        return .postgres
    }

    static func runMigrations(_ app: Application, settings: ServerSettings, kind: DatabaseKind) async throws {
        if kind == .sqlite {
            // WAL lets readers work while one writer commits; the mode is stored in the file.
            try await (app.db as! any SQLDatabase).raw("PRAGMA journal_mode = WAL").run()
        }
        try await app.autoMigrate()
        if let ownerURL = settings.migrationDatabaseURL, let appURL = settings.databaseURL,
           let appRole = URLComponents(string: appURL)?.user, appRole != URLComponents(string: ownerURL)?.user {
            let owner = app.db(ownerDatabase) as! any SQLDatabase
            try await ServerRoleGrants.apply(to: appRole.removingPercentEncoding ?? appRole, on: owner)
        }
    }

    static var resourcesPath: String {
        Bundle.module.url(forResource: "Resources", withExtension: nil)!.path
    }

    static func passwordPolicy() throws -> PasswordPolicy {
        let list = try String(contentsOfFile: resourcesPath + "/common-passwords.txt", encoding: .utf8)
        return PasswordPolicy(commonPasswords: PasswordPolicy.commonPasswords(fromList: list))
    }
}
