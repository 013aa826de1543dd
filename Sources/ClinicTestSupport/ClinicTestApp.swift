import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import Fluent
@testable import ClinicServer

/// A real ClinicKeep application on a real database, driven through its full middleware stack.
public struct ClinicTestApp: Sendable {
    public let app: Application
    public let database: TestDatabase
    public let settings: ServerSettings

    public var services: ClinicServices { app.clinicServices }

    /// Runs `body` against a fresh application: a new SQLite file, or the shared PostgreSQL test
    /// database as the server's own role (row-level security applies), migrated once per process.
    public static func with(_ database: TestDatabase, signup: Bool = true, adjust: @Sendable (inout ServerSettings) -> Void = { _ in },
                            _ body: @Sendable (ClinicTestApp) async throws -> Void) async throws {
        LogCapture.install()
        var settings = ServerSettings()
        settings.signupOpen = signup
        settings.bcryptCost = 10
        // The progressive delay is specified by its own test; elsewhere it would only slow the suite.
        settings.throttleDelay = 0
        // Before `adjust`, which may point a SQLite test at a directory of its own (a copied database).
        if database == .sqlite { settings.dataDirectory = NSTemporaryDirectory() + "clinickeep-test-" + UUID().uuidString }
        adjust(&settings)
        switch database {
        case .sqlite:
            break
        case .postgres:
            let urls = try TestDatabase.postgresURLs()
            settings.databaseURL = urls.app
            settings.migrationDatabaseURL = urls.owner
            // One key file for the process: every test shares the database and its wrapped keys.
            settings.dataDirectory = PostgresSetup.sharedDataDirectory
        }
        let app = try await Application.make(.testing)
        do {
            switch database {
            case .sqlite:
                try await ClinicKeepApp.configure(app, settings: settings, migrate: true)
            case .postgres:
                try await PostgresSetup.gate.configure(app, settings: settings)
            }
            try await body(ClinicTestApp(app: app, database: database, settings: settings))
        } catch {
            try await app.asyncShutdown()
            if database == .sqlite { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
            throw error
        }
        try await app.asyncShutdown()
        if database == .sqlite { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
    }

    /// Sends a request through the whole middleware stack, as `session` when given (with its
    /// CSRF token on unsafe methods unless `csrf` is false).
    public func send(_ method: HTTPMethod, _ path: String, json: [String: any Sendable]? = nil, as session: TestSession? = nil,
                     csrf: Bool = true, headers extra: HTTPHeaders = [:], rawBody: String? = nil, bytes: Data? = nil) async throws -> TestResponse {
        var headers = extra
        var body: ByteBuffer?
        if let json {
            headers.contentType = .json
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        } else if let rawBody {
            if headers.contentType == nil { headers.contentType = .json }
            body = ByteBuffer(string: rawBody)
        } else if let bytes {
            if headers.contentType == nil { headers.contentType = .binary }
            body = ByteBuffer(data: bytes)
        }
        if let session {
            headers.add(name: .cookie, value: "\(SessionStore.cookieName)=\(session.cookie)")
            if csrf { headers.add(name: "X-CSRF-Token", value: session.csrfToken) }
        }
        let response = try await app.testing().sendRequest(method, path, headers: headers, body: body)
        return TestResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
    }
}

/// PostgreSQL tests share one database. The first test of the process resets its schema and
/// migrates it (once, whoever asks first; the rest wait for that), then every test configures
/// without migrating. The reset matters: the process's key file is new, so rows wrapped under
/// an earlier run's key could not be opened.
enum PostgresSetup {
    static let sharedDataDirectory = NSTemporaryDirectory() + "clinickeep-test-pg-" + UUID().uuidString

    static let gate = Gate()

    actor Gate {
        private var preparation: Task<Void, any Error>?

        func configure(_ app: Application, settings: ServerSettings) async throws {
            if preparation == nil {
                preparation = Task { try await Self.resetAndMigrate(settings) }
            }
            try await preparation!.value
            try await ClinicKeepApp.configure(app, settings: settings, migrate: false)
        }

        private static func resetAndMigrate(_ settings: ServerSettings) async throws {
            let app = try await Application.make(.testing)
            do {
                _ = try ClinicKeepApp.useDatabases(app, settings: settings)
                let owner = app.db(ClinicKeepApp.ownerDatabase) as! any SQLDatabase
                try await owner.raw("DROP SCHEMA IF EXISTS public CASCADE").run()
                try await owner.raw("CREATE SCHEMA public").run()
                try await ClinicKeepApp.configure(app, settings: settings, migrate: true)
            } catch {
                try await app.asyncShutdown()
                throw error
            }
            try await app.asyncShutdown()
        }
    }
}

/// What a test reads back from a response.
public struct TestResponse: Sendable {
    public let status: HTTPStatus
    public let headers: HTTPHeaders
    public let body: Data

    public var text: String { String(decoding: body, as: UTF8.self) }

    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    public var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    public var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }

    /// The value and attributes of a cookie this response sets.
    public func setCookie(_ name: String) -> (value: String, attributes: [String])? {
        for header in headers[.setCookie] {
            let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, first.hasPrefix(name + "=") else { continue }
            return (String(first.dropFirst(name.count + 1)), Array(parts.dropFirst()))
        }
        return nil
    }
}
