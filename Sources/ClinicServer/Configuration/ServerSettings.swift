import ClinicDomain
import Foundation
import Vapor

/// Everything an instance is told by flags and `CLINICKEEP_*` environment variables.
/// Secrets are not settings: keys live in the key provider, never here.
public struct ServerSettings: Sendable {
    public enum MinimumTLS: String, Sendable { case v12 = "1.2", v13 = "1.3" }

    public var hostname = "127.0.0.1"
    public var port = 8443
    /// A plain-HTTP port that only redirects to HTTPS (off unless set).
    public var plainHTTPPort: Int?
    /// Prometheus metrics over plain HTTP on their own port (off unless set), on loopback unless
    /// `metricsHostname` says otherwise: counts and timings, never an id or a personal value.
    public var metricsPort: Int?
    public var metricsHostname = "127.0.0.1"
    public var dataDirectory = "./clinickeep-data"
    /// Where the key-encryption key lives: the key file (default) or AWS KMS.
    public var keyProvider = KeyProviderSetting.keyFile
    /// Each realm's root key, outside the database (default `<data dir>/keystore`). Several
    /// servers on one PostgreSQL database share it.
    public var keystoreDirectory: String?
    /// Where files' encrypted bytes are kept (default `<data dir>/files`).
    public var filesDirectory: String?
    /// The largest file an upload may carry.
    public var maximumUploadBytes: Int64 = 256 * 1024 * 1024
    /// Multiplies every rate limit (not the lockouts): for test suites that sign up many clinics
    /// from one address.
    public var rateLimitScale: Double = 1
    /// The most file bytes one clinic may keep, every version counted.
    public var clinicStorageQuota: Int64 = 50 * 1024 * 1024 * 1024
    /// The server's own role: owns nothing, subject to row-level security. Absent: SQLite.
    public var databaseURL: String?
    /// The owner's role, used only to migrate.
    public var migrationDatabaseURL: String?
    public var signupOpen = false
    public var tlsEnabled = true
    public var minimumTLS = MinimumTLS.v13
    /// bcrypt cost; 12 by default (about 290 ms of one core here).
    public var bcryptCost = 12
    public var sessionIdleTimeout: TimeInterval = 30 * 60
    public var sessionAbsoluteTimeout: TimeInterval = 12 * 60 * 60
    /// Where the certificate and key live; generated in the data directory when absent.
    public var certificatePath: String?
    public var privateKeyPath: String?
    public var logLevel: Logger.Level = .info
    /// A k-anonymity range service (the SHA-1 prefix protocol); nil: only the shipped list.
    public var breachedRangeURL: String?
    /// Where e-mail is delivered from the outbox; nil: it stays in the outbox.
    public var smtpURL: String?
    public var mailFrom = "ClinicKeep <clinickeep@localhost>"
    /// A PEM bundle of certificates to trust for the SMTP server's (a private relay, a test server).
    public var smtpCAFile: String?
    /// The operator's SMS (and WhatsApp) account; nil: text messages wait, unless their clinic
    /// stored its own (`sms-provider` integration secret).
    var sms: SMSSettings?
    /// Where Twilio's API is, for the operator's account and clinics' own alike.
    var twilioBaseURL = "https://api.twilio.com"
    /// The address people reach this server at, for links in e-mail (default: the listening address).
    public var publicBaseURL: String?
    /// Base of the progressive delay on failed sign-ins; zero turns the delay off.
    public var throttleDelay: TimeInterval = 0.25
    /// A signed audit checkpoint after this many events of a chain, or this long after the last one.
    public var auditCheckpointEvents: Int64 = 1000
    public var auditCheckpointInterval: TimeInterval = 5 * 60
    /// The smallest group of patients a description in the analytics export may single out
    /// (`PseudonymisedVisits`); raised, never lowered below 5.
    public var analyticsK = PseudonymisedVisits.minimumK
    /// How often the scheduler looks for reminders that are due.
    public var schedulerInterval: TimeInterval = 60
    /// How long a new owner or admin may work without a second factor before being sent to set one up.
    public var adminMFAGrace: TimeInterval = 7 * 24 * 3600
    /// How long audit events are kept before `audit purge` may remove them.
    public var auditRetention = AuditRetentionPeriod.years(7)
    /// Where vulnerability reports go (security.txt's Contact): a mailto: or https: URI.
    public var securityContact: String?
    /// The disclosure policy security.txt points to; by default the page this server serves.
    public var securityPolicyURLSetting: String?

    /// An explicit opt-out of TLS to a PostgreSQL server off this machine, for a private network
    /// the operator vouches for (`CLINICKEEP_DATABASE_ALLOW_PLAINTEXT=1`); logged at every start.
    public var databaseAllowPlaintext = false

    /// Served until the operator names a contact; `security-report` fails while it is.
    public static let placeholderSecurityContact = "mailto:security@clinickeep.invalid"

    public var securityPolicyURL: String { securityPolicyURLSetting ?? publicURL + "/.well-known/security-policy" }

    public init() {}

    /// The settings an environment gives (`CLINICKEEP_*`, `DATABASE_URL`), before flags.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerSettings {
        var settings = ServerSettings()
        if let value = environment["CLINICKEEP_DATA_DIR"], !value.isEmpty { settings.dataDirectory = value }
        if let value = environment["CLINICKEEP_KEYSTORE_DIR"], !value.isEmpty { settings.keystoreDirectory = value }
        if let value = environment["CLINICKEEP_FILES_DIR"], !value.isEmpty { settings.filesDirectory = value }
        if let value = environment["CLINICKEEP_MAX_UPLOAD_MB"], !value.isEmpty {
            guard let megabytes = Int64(value), (1...4096).contains(megabytes) else { throw SettingsError("CLINICKEEP_MAX_UPLOAD_MB must be 1 to 4096") }
            settings.maximumUploadBytes = megabytes * 1024 * 1024
        }
        settings.keyProvider = try KeyProviderSetting.fromEnvironment(environment)
        if let value = environment["CLINICKEEP_HOSTNAME"], !value.isEmpty { settings.hostname = value }
        if let value = environment["CLINICKEEP_PORT"], !value.isEmpty { settings.port = try port(value) }
        if let value = environment["CLINICKEEP_HTTP_PORT"], !value.isEmpty { settings.plainHTTPPort = try port(value) }
        if let value = environment["CLINICKEEP_METRICS_PORT"], !value.isEmpty { settings.metricsPort = try port(value) }
        if let value = environment["CLINICKEEP_METRICS_HOST"], !value.isEmpty { settings.metricsHostname = value }
        if let value = environment["DATABASE_URL"], !value.isEmpty { settings.databaseURL = value }
        if let value = environment["CLINICKEEP_MIGRATION_DATABASE_URL"], !value.isEmpty { settings.migrationDatabaseURL = value }
        if let value = environment["CLINICKEEP_DATABASE_ALLOW_PLAINTEXT"], !value.isEmpty {
            guard ["0", "1"].contains(value) else { throw SettingsError("CLINICKEEP_DATABASE_ALLOW_PLAINTEXT must be 0 or 1") }
            settings.databaseAllowPlaintext = value == "1"
        }
        if let value = environment["CLINICKEEP_SIGNUP"] {
            switch value.lowercased() {
            case "open": settings.signupOpen = true
            case "", "closed", "setup-link": settings.signupOpen = false
            default: throw SettingsError("CLINICKEEP_SIGNUP must be 'open' or 'closed'")
            }
        }
        if let value = environment["CLINICKEEP_TLS"] {
            switch value.lowercased() {
            case "on", "": settings.tlsEnabled = true
            // For running behind a TLS-terminating proxy on loopback only.
            case "off": settings.tlsEnabled = false
            default: throw SettingsError("CLINICKEEP_TLS must be 'on' or 'off'")
            }
        }
        if let value = environment["CLINICKEEP_TLS_MIN"], !value.isEmpty {
            guard let minimum = MinimumTLS(rawValue: value) else { throw SettingsError("CLINICKEEP_TLS_MIN must be 1.2 or 1.3") }
            settings.minimumTLS = minimum
        }
        if let value = environment["CLINICKEEP_BCRYPT_COST"], !value.isEmpty {
            guard let cost = Int(value), (10...16).contains(cost) else { throw SettingsError("CLINICKEEP_BCRYPT_COST must be 10 to 16") }
            settings.bcryptCost = cost
        }
        if let value = environment["CLINICKEEP_ANALYTICS_K"], !value.isEmpty {
            guard let k = Int(value), (PseudonymisedVisits.minimumK...1_000).contains(k) else {
                throw SettingsError("CLINICKEEP_ANALYTICS_K must be 5 to 1000: a smaller group could single a patient out")
            }
            settings.analyticsK = k
        }
        if let value = environment["CLINICKEEP_TLS_CERT"], !value.isEmpty { settings.certificatePath = value }
        if let value = environment["CLINICKEEP_TLS_KEY"], !value.isEmpty { settings.privateKeyPath = value }
        if let value = environment["CLINICKEEP_SESSION_IDLE"], !value.isEmpty {
            settings.sessionIdleTimeout = try duration(value, name: "CLINICKEEP_SESSION_IDLE")
        }
        if let value = environment["CLINICKEEP_SESSION_ABSOLUTE"], !value.isEmpty {
            settings.sessionAbsoluteTimeout = try duration(value, name: "CLINICKEEP_SESSION_ABSOLUTE")
        }
        if let value = environment["CLINICKEEP_BREACHED_RANGE_URL"], !value.isEmpty {
            // Five hex digits of a password's SHA-1 leave for it: never in the clear off this machine.
            guard let url = URL(string: value), let host = url.host,
                  url.scheme == "https" || (url.scheme == "http" && Self.isLoopback(host)) else {
                throw SettingsError("CLINICKEEP_BREACHED_RANGE_URL must be an https URL (http only to a loopback address)")
            }
            settings.breachedRangeURL = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        if let value = environment["CLINICKEEP_SMTP_URL"], !value.isEmpty {
            guard (try? SMTPServer(url: value)) != nil else {
                throw SettingsError("CLINICKEEP_SMTP_URL must look like smtp://[user:password@]host:port or smtps://...")
            }
            settings.smtpURL = value
        }
        if let value = environment["CLINICKEEP_MAIL_FROM"], !value.isEmpty { settings.mailFrom = value }
        if let value = environment["CLINICKEEP_SMTP_CA_FILE"], !value.isEmpty {
            guard FileManager.default.isReadableFile(atPath: value) else { throw SettingsError("CLINICKEEP_SMTP_CA_FILE must name a readable PEM file") }
            settings.smtpCAFile = value
        }
        if let value = environment["CLINICKEEP_RATE_LIMIT_SCALE"], !value.isEmpty {
            guard let scale = Double(value), (0.01...100_000).contains(scale) else {
                throw SettingsError("CLINICKEEP_RATE_LIMIT_SCALE must be a number from 0.01 to 100000")
            }
            settings.rateLimitScale = scale
        }
        if let value = environment["CLINICKEEP_CLINIC_STORAGE_QUOTA"], !value.isEmpty {
            guard let bytes = Self.byteCount(value), bytes > 0 else {
                throw SettingsError("CLINICKEEP_CLINIC_STORAGE_QUOTA must be a size such as 50G, 500M or a number of bytes")
            }
            settings.clinicStorageQuota = bytes
        }
        if let value = environment["CLINICKEEP_SECURITY_CONTACT"], !value.isEmpty {
            let isMail = value.hasPrefix("mailto:") && (try? EmailAddress(parsing: String(value.dropFirst(7)))) != nil
            guard isMail || Self.isHTTPS(value) else {
                throw SettingsError("CLINICKEEP_SECURITY_CONTACT must be a mailto: address or an https: URL")
            }
            settings.securityContact = value
        }
        if let value = environment["CLINICKEEP_SECURITY_POLICY_URL"], !value.isEmpty {
            guard Self.isHTTPS(value) else { throw SettingsError("CLINICKEEP_SECURITY_POLICY_URL must be an https: URL") }
            settings.securityPolicyURLSetting = value
        }
        if let value = environment["CLINICKEEP_PUBLIC_URL"], !value.isEmpty {
            settings.publicBaseURL = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        if let value = environment["CLINICKEEP_THROTTLE_DELAY_MS"], !value.isEmpty {
            guard let ms = Int(value), (0...5000).contains(ms) else { throw SettingsError("CLINICKEEP_THROTTLE_DELAY_MS must be 0 to 5000") }
            settings.throttleDelay = Double(ms) / 1000
        }
        if let value = environment["CLINICKEEP_AUDIT_CHECKPOINT_EVENTS"], !value.isEmpty {
            guard let count = Int64(value), (1...1_000_000).contains(count) else {
                throw SettingsError("CLINICKEEP_AUDIT_CHECKPOINT_EVENTS must be 1 to 1000000")
            }
            settings.auditCheckpointEvents = count
        }
        if let value = environment["CLINICKEEP_AUDIT_CHECKPOINT_INTERVAL"], !value.isEmpty {
            settings.auditCheckpointInterval = try duration(value, name: "CLINICKEEP_AUDIT_CHECKPOINT_INTERVAL")
        }
        if let base = environment["CLINICKEEP_TWILIO_BASE_URL"], !base.isEmpty {
            // The auth token crosses on every call: never in the clear off this machine.
            guard let url = URL(string: base), let host = url.host, url.query == nil,
                  url.scheme == "https" || (url.scheme == "http" && Self.isLoopback(host)) else {
                throw SettingsError("CLINICKEEP_TWILIO_BASE_URL must be an https URL (http only to a loopback address)")
            }
            settings.twilioBaseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        }
        if let provider = environment["CLINICKEEP_SMS_PROVIDER"], !provider.isEmpty {
            guard provider == "twilio" else { throw SettingsError("CLINICKEEP_SMS_PROVIDER must be twilio") }
            func required(_ name: String) throws -> String {
                guard let value = environment[name], !value.isEmpty else { throw SettingsError("CLINICKEEP_SMS_PROVIDER=twilio needs \(name)") }
                return value
            }
            let from = try required("CLINICKEEP_SMS_FROM")
            guard PhoneNumber.isE164(from) else {
                throw SettingsError("CLINICKEEP_SMS_FROM must be a number in E.164 form, such as +61400000000")
            }
            settings.sms = SMSSettings(accountSID: try required("CLINICKEEP_TWILIO_ACCOUNT_SID"), authToken: try required("CLINICKEEP_TWILIO_AUTH_TOKEN"),
                                       from: from, baseURL: settings.twilioBaseURL)
        }
        if let value = environment["CLINICKEEP_SCHEDULER_INTERVAL"], !value.isEmpty {
            settings.schedulerInterval = try duration(value, name: "CLINICKEEP_SCHEDULER_INTERVAL")
            guard settings.schedulerInterval >= 1 else { throw SettingsError("CLINICKEEP_SCHEDULER_INTERVAL must be at least 1s") }
        }
        if let value = environment["CLINICKEEP_ADMIN_MFA_GRACE"], !value.isEmpty {
            settings.adminMFAGrace = try duration(value, name: "CLINICKEEP_ADMIN_MFA_GRACE")
        }
        if let value = environment["CLINICKEEP_AUDIT_RETENTION"], !value.isEmpty {
            settings.auditRetention = try AuditRetentionPeriod(parsing: value)
        }
        if let value = environment["CLINICKEEP_LOG_LEVEL"], !value.isEmpty {
            guard let level = Logger.Level(rawValue: value) else { throw SettingsError("CLINICKEEP_LOG_LEVEL must be a log level such as info") }
            settings.logLevel = level
        }
        return settings
    }

    /// "90s", "30m", "12h": a number and a unit.
    /// A name or address of this machine itself.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// What must hold of the transport however the settings were given (environment, then
    /// flags): no plain HTTP listener off loopback, no PostgreSQL off this machine without TLS
    /// unless the operator opted out. Answers the warnings to log at start.
    public func checkTransport() throws -> [String] {
        if !tlsEnabled, !Self.isLoopback(hostname) {
            throw SettingsError("CLINICKEEP_TLS=off is only for a TLS-terminating proxy on this machine: listen on 127.0.0.1 or ::1, or turn TLS on")
        }
        var warnings: [String] = []
        for (name, value) in [("DATABASE_URL", databaseURL), ("CLINICKEEP_MIGRATION_DATABASE_URL", migrationDatabaseURL)] {
            guard let value, let url = URLComponents(string: value), let scheme = url.scheme, !scheme.contains("uds") else { continue }
            guard let host = url.host, !host.isEmpty, !Self.isLoopback(host) else { continue }
            let mode = url.queryItems?.last(where: { ["tlsmode", "sslmode", "ssl", "tls"].contains($0.name.lowercased()) })?.value?.lowercased()
            if ["require", "verify-ca", "verify-full"].contains(mode ?? "") { continue }
            guard databaseAllowPlaintext else {
                throw SettingsError("\(name) reaches PostgreSQL on another machine without TLS: add ?sslmode=verify-full (or require), "
                                    + "or set CLINICKEEP_DATABASE_ALLOW_PLAINTEXT=1 for a private network you trust")
            }
            warnings.append("\(name): PostgreSQL on another machine WITHOUT TLS (CLINICKEEP_DATABASE_ALLOW_PLAINTEXT=1): "
                            + "passwords, queries and sealed data cross the network in the clear")
        }
        return warnings
    }

    /// Bytes from "123", "500K", "500M" or "50G" (powers of 1024).
    static func byteCount(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = text.uppercased().last else { return nil }
        if let unit = units[last] {
            guard let number = Int64(text.dropLast()), number <= Int64.max / unit else { return nil }
            return number * unit
        }
        return Int64(text)
    }

    static func isHTTPS(_ text: String) -> Bool {
        guard let url = URL(string: text), url.scheme == "https", let host = url.host, !host.isEmpty else { return false }
        return true
    }

    static func duration(_ text: String, name: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600]
        guard let unit = text.last.flatMap({ units[$0] }), let number = Double(text.dropLast()), number > 0, number * unit <= 30 * 24 * 3600 else {
            throw SettingsError("\(name) must be a duration such as 90s, 30m or 12h (at most 30 days)")
        }
        return number * unit
    }

    static func port(_ text: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw SettingsError("a port must be a number from 1 to 65535") }
        return port
    }

    /// The help text every command prints for the environment it reads.
    public static let environmentHelp = """
    Environment:
      CLINICKEEP_DATA_DIR                data directory (default ./clinickeep-data)
      CLINICKEEP_KEY_PROVIDER            'file' (default: the key file in the data directory) or 'aws-kms'
      CLINICKEEP_KMS_KEY_ID              aws-kms: the KMS key (id, ARN or alias) that wraps new keys
      CLINICKEEP_KMS_PREVIOUS_KEY_IDS    aws-kms: keys stored keys may still be wrapped by, while `keys rewrap` moves them (comma-separated)
      CLINICKEEP_KMS_REGION              aws-kms: region (default AWS_REGION)
      CLINICKEEP_KMS_ENDPOINT            aws-kms: endpoint (default https://kms.<region>.amazonaws.com; http only on loopback)
      AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN  aws-kms: credentials (never logged)
      CLINICKEEP_KEYSTORE_DIR            each clinic's root key, outside the database (default <data dir>/keystore; shared by every server of one database)
      CLINICKEEP_HTTP_PORT               a plain-HTTP port that only redirects to HTTPS (default: none)
      CLINICKEEP_METRICS_PORT            Prometheus metrics at http://<host>:<port>/metrics (default: off)
      CLINICKEEP_METRICS_HOST            the address the metrics port listens on (default 127.0.0.1)
      CLINICKEEP_FILES_DIR               files' encrypted bytes (default <data dir>/files; shared by every server of one database)
      CLINICKEEP_MAX_UPLOAD_MB           the largest file an upload may carry, in MiB (default 256)
      DATABASE_URL                       postgres://... for PostgreSQL as the server's own role (default: SQLite in the data directory)
      CLINICKEEP_MIGRATION_DATABASE_URL  postgres://... as the owner's role, used to migrate
                                         (off this machine both need ?sslmode=verify-full or require)
      CLINICKEEP_DATABASE_ALLOW_PLAINTEXT 1: allow PostgreSQL off this machine without TLS (a private network; logged at every start)
      CLINICKEEP_SIGNUP                  'open' allows self-service clinic sign-up (default: one-time setup link only)
      CLINICKEEP_TLS_MIN                 1.3 (default) or 1.2
      CLINICKEEP_TLS_CERT / _TLS_KEY     PEM certificate chain and key (default: self-signed, generated)
      CLINICKEEP_TLS                     'off' only behind a TLS-terminating proxy on loopback
      CLINICKEEP_BCRYPT_COST             10 to 16 (default 12)
      CLINICKEEP_SESSION_IDLE            idle expiry of a session (default 30m; e.g. 90s, 30m, 2h)
      CLINICKEEP_SESSION_ABSOLUTE        absolute expiry of a session (default 12h)
      CLINICKEEP_BREACHED_RANGE_URL      k-anonymity range service for breached passwords (GET <url>/<SHA-1 prefix>)
      CLINICKEEP_SMTP_URL                smtp://[user:password@]host:port or smtps://... (default: e-mail stays in the outbox)
      CLINICKEEP_SMTP_CA_FILE            PEM certificates to trust for the SMTP server (smtp:// upgrades with STARTTLS and verifies;
                                         in the clear only to a relay on this machine without credentials)
      CLINICKEEP_MAIL_FROM               sender of e-mail (default ClinicKeep <clinickeep@localhost>)
      CLINICKEEP_SCHEDULER_INTERVAL      how often due reminders are looked for (default 60s)
      CLINICKEEP_SMS_PROVIDER            twilio: patients' SMS and WhatsApp through Twilio, with CLINICKEEP_TWILIO_ACCOUNT_SID,
                                         CLINICKEEP_TWILIO_AUTH_TOKEN, CLINICKEEP_SMS_FROM (E.164) and optionally
                                         CLINICKEEP_TWILIO_BASE_URL (https; http only to a loopback address; also for clinics
                                         that stored their own account as an sms-provider integration secret)
      CLINICKEEP_RATE_LIMIT_SCALE        multiplies the rate limits of sign-up (20 an hour per address), setup and API tokens
                                         (1200 requests a minute each); not the sign-in lockouts (default 1)
      CLINICKEEP_CLINIC_STORAGE_QUOTA    the most file bytes one clinic keeps, every version counted (default 50G; then 409 storage_full)
      CLINICKEEP_SECURITY_CONTACT        security.txt's Contact: mailto:you@example.org or an https: URL (set it: security-report fails on the placeholder)
      CLINICKEEP_SECURITY_POLICY_URL     security.txt's Policy (default: the policy page this server serves)
      CLINICKEEP_PUBLIC_URL              the URL people reach this server at, for links in e-mail
      CLINICKEEP_THROTTLE_DELAY_MS       base of the progressive delay after failed sign-ins (default 250; 0 = off)
      CLINICKEEP_AUDIT_CHECKPOINT_EVENTS a signed audit checkpoint every this many events of a clinic (default 1000)
      CLINICKEEP_AUDIT_CHECKPOINT_INTERVAL  ... or this long after the last one, when events came since (default 5m)
      CLINICKEEP_ADMIN_MFA_GRACE         how long a new owner or admin may work before two-step sign-in is required of them (default 168h)
      CLINICKEEP_AUDIT_RETENTION         how long audit events are kept before `audit purge` removes them (default 7y; at least 1y or 366d)
      CLINICKEEP_LOG_LEVEL               trace, debug, info (default), notice, warning, error
    """

    var sqlitePath: String { dataDirectory + "/clinickeep.sqlite" }
    var keyFilePath: String { dataDirectory + "/key-encryption-key.json" }
    var keystorePath: String { keystoreDirectory ?? dataDirectory + "/keystore" }
    var filesPath: String { filesDirectory ?? dataDirectory + "/files" }
    var generatedCertificatePath: String { dataDirectory + "/tls-certificate.pem" }
    var generatedPrivateKeyPath: String { dataDirectory + "/tls-private-key.pem" }
    var usesPostgres: Bool { databaseURL != nil }

    /// Where links in e-mail point.
    var linkBaseURL: String { publicBaseURL ?? publicURL }

    public var publicURL: String {
        let scheme = tlsEnabled ? "https" : "http"
        let host = hostname.contains(":") ? "[\(hostname)]" : hostname
        return "\(scheme)://\(host):\(port)"
    }
}

public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Which key provider holds the key-encryption key. AWS credentials are not settings: they are
/// read from the environment when the provider is made, and kept nowhere else.
public enum KeyProviderSetting: Sendable, Equatable {
    case keyFile
    case awsKMS(keyID: String, region: String, endpoint: String?)

    static func fromEnvironment(_ environment: [String: String]) throws -> KeyProviderSetting {
        switch environment["CLINICKEEP_KEY_PROVIDER"]?.lowercased() ?? "" {
        case "", "file":
            return .keyFile
        case "aws-kms":
            guard let keyID = environment["CLINICKEEP_KMS_KEY_ID"], !keyID.isEmpty else {
                throw SettingsError("CLINICKEEP_KEY_PROVIDER=aws-kms needs CLINICKEEP_KMS_KEY_ID")
            }
            let region = [environment["CLINICKEEP_KMS_REGION"], environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]]
                .compactMap { $0 }.first { !$0.isEmpty }
            guard let region else { throw SettingsError("CLINICKEEP_KEY_PROVIDER=aws-kms needs CLINICKEEP_KMS_REGION (or AWS_REGION)") }
            let endpoint = environment["CLINICKEEP_KMS_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
            return .awsKMS(keyID: keyID, region: region, endpoint: endpoint)
        default:
            throw SettingsError("CLINICKEEP_KEY_PROVIDER must be 'file' or 'aws-kms'")
        }
    }
}
