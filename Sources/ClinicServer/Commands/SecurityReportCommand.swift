import Foundation
import Keyring
import NIOSSL
import SQLKit
import Vapor

/// `clinickeep security-report [--url URL]`: checks the promises of the security model (docs/threat_model.md) on
/// this instance, its data directory and database, and the server answering at URL (default: the
/// configured public URL), one line a check. Exit 1 when any check fails.
struct SecurityReportCommand: AsyncCommand {
    struct Signature: DataDirectorySignature {
        @Option(name: "url", help: "The running server to check (default: the configured https://host:port)")
        var url: String?
        @Option(name: "data-dir", help: "Data directory (default ./clinickeep-data)")
        var dataDir: String?
    }

    let signature = Signature()
    var help: String {
        "Checks the security promises on this instance (configuration, key material, sealed data, audit chains, row-level security) and on the running server (TLS versions, headers, errors, security.txt); exit 1 when one fails."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let settings = try signature.settings()
        let base = (signature.url ?? settings.publicURL).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let url = URL(string: base), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw CommandFailure("--url takes the server's base URL, such as https://127.0.0.1:8443", exitCode: 2)
        }
        // The checks that need no database first: an instance that refuses to open (a key file
        // others can read, say) still gets those lines, and a failed line of its own.
        var findings = [SecurityReport.tlsConfigured(settings)] + SecurityReport.keyMaterialPrivate(settings)
        do {
            try await ClinicKeepApp.configure(context.application, settings: settings, migrate: false)
            let report = SecurityReport(settings: settings, services: context.application.clinicServices, base: base)
            findings += await report.run()
        } catch {
            // Keyring errors say what is wrong with the key material, never the material itself.
            let what = error is KeyringError ? String(describing: error) : String(reflecting: type(of: error))
            findings.append(SecurityReport.Finding(name: "instance.opens", passed: false, detail: "the instance does not open: \(what)"))
        }
        findings += SecurityReport.operatorMechanisms(settings, base: base)
        // One line a check: the promise it proves, PASS, FAIL or INFO, the check's name and what it saw.
        for finding in findings {
            context.console.print("\(finding.promise) \(finding.status.rawValue) \(finding.name): \(finding.detail)")
        }
        let failed = findings.filter { !$0.passed }
        guard failed.isEmpty else {
            throw CommandFailure("security report: \(failed.count) of \(findings.count) checks FAILED: " + failed.map(\.name).joined(separator: ", "))
        }
        context.console.print("security report: all \(findings.count) checks passed")
    }
}

/// The checks themselves; each answers pass or fail with what it saw, never a secret.
struct SecurityReport: Sendable {
    struct Finding: Sendable {
        enum Status: String, Sendable { case pass = "PASS", fail = "FAIL", info = "INFO" }

        let name: String
        let passed: Bool
        let detail: String
        /// INFO: a promise about how the operator works, with the mechanism the operator has.
        var informational = false

        var status: Status { informational ? .info : passed ? .pass : .fail }
        /// The promise this check proves (the ids of PROMISES in the README's promise table).
        var promise: String { SecurityReport.promiseIDs[name] ?? "SEC-0" }
    }

    /// Which promise each check proves.
    static let promiseIDs: [String: String] = [
        "instance.opens": "DAO-5", "tls.configured": "PRX-3", "keys.private": "POR-4", "data.sealed": "DAO-5",
        "audit.chains": "PRX-8", "tenancy.rls": "POR-7", "database.role": "DAO-2", "https.versions": "DU-1",
        "https.headers": "DC-14", "api.errors": "DC-16", "security.txt": "DAO-20", "disclosure.policy": "DU-11",
        "breach.scoping": "PRX-11", "keys.provider": "DAO-9", "support.access": "PRX-14",
    ]

    /// The promises about how an operator works: what this instance gives them to keep each.
    static func operatorMechanisms(_ settings: ServerSettings, base: String) -> [Finding] {
        let provider: String
        switch settings.keyProvider {
        case .keyFile: provider = "key file \(settings.keyFilePath) (keep it apart from the database and its backups); `keys rotate`, `keys rewrap`"
        case .awsKMS: provider = "AWS KMS key; `keys rotate`, `keys rewrap` to a new KMS key"
        }
        return [
            Finding(name: "disclosure.policy", passed: true,
                    detail: "reports go to \(settings.securityContact ?? ServerSettings.placeholderSecurityContact); policy at \(settings.securityPolicyURLSetting ?? base + "/.well-known/security-policy"); acknowledged within 24 hours",
                    informational: true),
            Finding(name: "breach.scoping", passed: true,
                    detail: "GET /api/v1/clinics/{id}/audit?patientId=&userId=&from=&to= answers who touched what, from the verified ledger",
                    informational: true),
            Finding(name: "keys.provider", passed: true, detail: provider, informational: true),
            Finding(name: "support.access", passed: true,
                    detail: "no standing access: `support-access request` asks a clinic, its owner grants or refuses in the app, `support-access login` signs in read-only until the grant's hours are up or it is revoked; every read in the clinic's ledger",
                    informational: true),
        ]
    }

    let settings: ServerSettings
    let services: ClinicServices
    let base: String

    /// The one table with a clinic's id that is global by design: the clinics themselves.
    /// (Memberships, invitations and API tokens are under row-level security too, with the
    /// identity realm seeing all of them for sign-in, invitations and token look-ups.)
    static let globalTablesWithClinic: Set<String> = ["clinics"]

    /// The checks of the running instance and server; `tlsConfigured` and `keyMaterialPrivate`
    /// come first, before the instance opens.
    func run() async -> [Finding] {
        var findings: [Finding] = []
        let checks: [(String, @Sendable () async throws -> Finding)] = [
            ("data.sealed", sealedAtRest), ("audit.chains", auditChains), ("tenancy.rls", rowLevelSecurity),
            ("database.role", serverRole), ("https.versions", remoteTLS), ("https.headers", remoteHeaders),
            ("api.errors", remoteErrors), ("security.txt", securityTxt),
        ]
        for (name, check) in checks {
            do {
                findings.append(try await check())
            } catch {
                // The error's type and, for TLS and connection errors, their description: neither
                // carries a secret (no query text, no value).
                let what = error is NIOSSLError || error is HTTPClientError ? String(describing: error) : String(reflecting: type(of: error))
                findings.append(Finding(name: name, passed: false, detail: "could not run: \(what)"))
            }
        }
        return findings
    }

    // MARK: - This instance

    static func tlsConfigured(_ settings: ServerSettings) -> Finding {
        if !settings.tlsEnabled {
            let loopback = ["127.0.0.1", "::1", "localhost"].contains(settings.hostname)
            return Finding(name: "tls.configured", passed: loopback,
                           detail: loopback ? "TLS off, listening on loopback only (behind a TLS-terminating proxy)" : "TLS off on a non-loopback address")
        }
        return Finding(name: "tls.configured", passed: settings.minimumTLS == .v13, detail: "minimum TLS \(settings.minimumTLS.rawValue)")
    }

    static func keyMaterialPrivate(_ settings: ServerSettings) -> [Finding] {
        func mode(_ path: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
        }
        var paths: [(String, String, Int)] = [("data directory", settings.dataDirectory, 0o700), ("key store", settings.keystorePath, 0o700)]
        if case .keyFile = settings.keyProvider { paths.append(("key file", settings.keyFilePath, 0o600)) }
        if FileManager.default.fileExists(atPath: settings.filesPath) { paths.append(("file store", settings.filesPath, 0o700)) }
        let loose = paths.filter { _, path, allowed in mode(path).map { $0 & ~allowed & 0o777 != 0 } ?? true }
        let detail = loose.isEmpty
            ? paths.map { "\($0.0) \(String($0.2, radix: 8))" }.joined(separator: ", ")
            : loose.map { "\($0.0) is " + (mode($0.1).map { String($0 & 0o777, radix: 8) } ?? "missing") + ", wants \(String($0.2, radix: 8))" }.joined(separator: "; ")
        return [Finding(name: "keys.private", passed: loose.isEmpty, detail: detail)]
    }

    /// Every value of every sealed column of every clinic is a sealed blob (format 1, header,
    /// nonce and tag), never plaintext.
    func sealedAtRest() async throws -> Finding {
        let clinics = try await services.store.global.raw("SELECT id FROM clinics WHERE status = 'active'").all()
            .map { try $0.decode(column: "id", as: UUID.self) }
        let postgres = services.store.kind == .postgres
        var values: Int64 = 0
        var bad: [String] = []
        for clinic in clinics {
            let (total, faults) = try await services.store.transaction(realm: clinic) { tx -> (Int64, [String]) in
                var total: Int64 = 0
                var faults: [String] = []
                for table in SealedTable.clinic {
                    for column in table.columns {
                        let notSealed = postgres ? "(length(\(column)) < 33 OR get_byte(\(column), 0) <> 1)" : "(length(\(column)) < 33 OR substr(\(column), 1, 1) <> X'01')"
                        let row = try await tx.sql.raw("""
                            SELECT COUNT(\(unsafeRaw: column)) AS total, COUNT(CASE WHEN \(unsafeRaw: notSealed) THEN 1 END) AS bad
                            FROM \(unsafeRaw: table.name) WHERE clinic_id = \(bind: clinic)
                            """).first()
                        total += try row?.decode(column: "total", as: Int64.self) ?? 0
                        if let count = try row?.decode(column: "bad", as: Int64.self), count > 0 { faults.append("\(table.name).\(column): \(count)") }
                    }
                }
                return (total, faults)
            }
            values += total
            bad += faults
        }
        return Finding(name: "data.sealed", passed: bad.isEmpty,
                       detail: bad.isEmpty ? "\(values) values in \(SealedTable.clinic.reduce(0) { $0 + $1.columns.count }) sealed columns of \(clinics.count) clinics, all sealed"
                                           : "not sealed: " + bad.joined(separator: ", "))
    }

    func auditChains() async throws -> Finding {
        let report = try await LedgerVerification(store: services.store).run()
        if let fault = report.fault { return Finding(name: "audit.chains", passed: false, detail: "first bad entry: \(fault)") }
        return Finding(name: "audit.chains", passed: true, detail: "\(report.chains.count) chains, \(report.totalEntries) entries verified")
    }

    /// On PostgreSQL, every table that holds a clinic's rows is under forced row-level security,
    /// except the few global by design.
    func rowLevelSecurity() async throws -> Finding {
        guard services.store.kind == .postgres else {
            return Finding(name: "tenancy.rls", passed: true, detail: "SQLite: one process, clinic-scoped repositories only (row-level security is PostgreSQL's)")
        }
        let rows = try await services.store.global.raw("""
            SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM information_schema.columns k
                          WHERE k.table_schema = 'public' AND k.table_name = c.relname AND k.column_name IN ('clinic_id', 'chain_id'))
            """).all()
        var open: [String] = []
        var covered = 0
        for row in rows {
            let name = try row.decode(column: "name", as: String.self)
            if Self.globalTablesWithClinic.contains(name) { continue }
            if try row.decode(column: "enabled", as: Bool.self), try row.decode(column: "forced", as: Bool.self) { covered += 1 } else { open.append(name) }
        }
        return Finding(name: "tenancy.rls", passed: open.isEmpty,
                       detail: open.isEmpty ? "\(covered) tenant tables under forced row-level security" : "without forced row-level security: " + open.sorted().joined(separator: ", "))
    }

    func serverRole() async throws -> Finding {
        guard services.store.kind == .postgres else {
            return Finding(name: "database.role", passed: true, detail: "SQLite: the database file is the server's own (mode checked with the data directory)")
        }
        let row = try await services.store.global.raw("""
            SELECT r.rolsuper AS superuser, r.rolbypassrls AS bypass,
                   (SELECT COUNT(*) FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner = current_user) AS owned
            FROM pg_roles r WHERE r.rolname = current_user
            """).first()
        let superuser = try row?.decode(column: "superuser", as: Bool.self) ?? true
        let bypass = try row?.decode(column: "bypass", as: Bool.self) ?? true
        let owned = try row?.decode(column: "owned", as: Int64.self) ?? 1
        let passed = !superuser && !bypass && owned == 0
        return Finding(name: "database.role", passed: passed,
                       detail: passed ? "the server's role owns no table, is no superuser and cannot bypass row-level security"
                                      : "the server's role: superuser \(superuser), bypasses RLS \(bypass), owns \(owned) tables")
    }

    // MARK: - The running server

    func client(maximumTLS: TLSVersion? = nil) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        let certificate = settings.certificatePath ?? settings.generatedCertificatePath
        if FileManager.default.fileExists(atPath: certificate) {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
        }
        if let maximumTLS {
            tls.minimumTLSVersion = .tlsv1
            tls.maximumTLSVersion = maximumTLS
        }
        return HTTPClient(eventLoopGroupProvider: .singleton,
                          configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                               timeout: .init(connect: .seconds(5), read: .seconds(10))))
    }

    func fetch(_ path: String, maximumTLS: TLSVersion? = nil) async throws -> HTTPClient.Response {
        let client = try client(maximumTLS: maximumTLS)
        do {
            let response = try await client.get(url: base + path).get()
            try await client.shutdown()
            return response
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func remoteTLS() async throws -> Finding {
        guard base.hasPrefix("https://") else { return Finding(name: "https.versions", passed: false, detail: "\(base) is not HTTPS") }
        _ = try await fetch("/healthz")
        let old = try? await fetch("/healthz", maximumTLS: .tlsv12)
        let wanted13 = settings.minimumTLS == .v13
        let passed = !wanted13 || old == nil
        return Finding(name: "https.versions", passed: passed,
                       detail: old == nil ? "TLS 1.3 served, TLS 1.2 and older refused" : (wanted13 ? "TLS 1.2 accepted although the minimum is 1.3" : "TLS 1.3 and 1.2 served (minimum 1.2 configured)"))
    }

    func remoteHeaders() async throws -> Finding {
        var missing: [String] = []
        for path in ["/healthz", "/api/v1/me", "/login"] {
            let headers = try await fetch(path).headers
            let hsts = headers.first(name: "Strict-Transport-Security") ?? ""
            let maxAge = hsts.split(separator: ";").compactMap { part -> Int? in
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=")
                return pair.count == 2 && pair[0] == "max-age" ? Int(pair[1]) : nil
            }.first ?? 0
            if base.hasPrefix("https://"), maxAge < 31_536_000 { missing.append("\(path): HSTS of a year") }
            let csp = headers.first(name: "Content-Security-Policy") ?? ""
            if csp.isEmpty || csp.contains("'unsafe-inline'") && csp.contains("script-src") || !csp.contains("frame-ancestors 'none'") {
                missing.append("\(path): strict CSP")
            }
            if headers.first(name: "X-Content-Type-Options") != "nosniff" { missing.append("\(path): nosniff") }
            if !(headers.first(name: .cacheControl) ?? "").contains("no-store") { missing.append("\(path): no-store") }
        }
        return Finding(name: "https.headers", passed: missing.isEmpty,
                       detail: missing.isEmpty ? "HSTS (a year or more), strict CSP with frame-ancestors 'none', nosniff, no-store on every answer" : "missing " + missing.joined(separator: ", "))
    }

    func remoteErrors() async throws -> Finding {
        let response = try await fetch("/api/v1/me")
        let body = response.body.map { String(buffer: $0) } ?? ""
        struct Shape: Decodable { struct Detail: Decodable { let code: String; let message: String }; let error: Detail }
        let shaped = (try? JSONDecoder().decode(Shape.self, from: Data(body.utf8))) != nil
        let passed = response.status == .unauthorized && shaped
        return Finding(name: "api.errors", passed: passed,
                       detail: passed ? "a request without a session answers 401 in the error shape" : "a request without a session answered \(response.status.code)")
    }

    func securityTxt() async throws -> Finding {
        let response = try await fetch("/.well-known/security.txt")
        let text = response.body.map { String(buffer: $0) } ?? ""
        let fields = Dictionary(text.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (parts[0].lowercased(), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }, uniquingKeysWith: { first, _ in first })
        let expires = fields["expires"].flatMap { try? Date($0, strategy: .iso8601) }
        let served = response.status == .ok && fields["contact"] != nil && (expires.map { $0 > Date() } ?? false)
        let placeholder = fields["contact"] == ServerSettings.placeholderSecurityContact
        return Finding(name: "security.txt", passed: served && !placeholder,
                       detail: !served ? "missing, without Contact, or expired"
                           : placeholder ? "the Contact is still the placeholder: set CLINICKEEP_SECURITY_CONTACT"
                           : "served with the operator's Contact and an Expires in the future")
    }
}
