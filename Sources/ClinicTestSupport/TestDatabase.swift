import Foundation
import Testing

/// The two databases every server behaviour is proven on.
public enum TestDatabase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    public var testDescription: String { rawValue }

    /// The PostgreSQL URLs `scripts/test` exports. Missing means the test fails: PostgreSQL
    /// tests are never skipped.
    static func postgresURLs() throws -> (owner: String, app: String) {
        let environment = ProcessInfo.processInfo.environment
        guard let owner = environment["CLINICKEEP_TEST_POSTGRES_OWNER_URL"], !owner.isEmpty,
              let app = environment["CLINICKEEP_TEST_POSTGRES_APP_URL"], !app.isEmpty else {
            throw TestSetupError("PostgreSQL is required: run the suite with scripts/test, which starts a throwaway cluster and sets CLINICKEEP_TEST_POSTGRES_OWNER_URL and CLINICKEEP_TEST_POSTGRES_APP_URL")
        }
        // Like pointfreeco's live-database test case: never point the suite at a real database.
        precondition(owner.contains("127.0.0.1") || owner.contains("localhost"), "test databases must be on loopback")
        return (owner, app)
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
