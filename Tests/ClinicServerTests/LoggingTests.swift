import ClinicTestSupport
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import ClinicServer

@Suite("Logs")
struct LoggingTests {
    // POR-10
    @Test("the redacting handler hides sensitive metadata and scrubs personal data from messages")
    func redacts() {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "test") { RedactingLogHandler(label: $0) { line in lines.withLockedValue { $0.append(line) } } }
        logger.logLevel = .info
        logger.info("login for ada@example.org from 0412 345 678 with Bearer abc.def.ghi and /patients?q=smith",
                    metadata: ["password": "hunter2hunter2", "session_token": "tok", "status": "200", "email": "ada@example.org"])
        let line = lines.withLockedValue { $0.joined() }
        for secret in ["ada@example.org", "0412 345 678", "abc.def.ghi", "hunter2hunter2", "q=smith", "tok\n"] {
            #expect(!line.contains(secret), "\(secret) reached the log")
        }
        #expect(line.contains("status=200"))
        #expect(line.contains("password=[redacted]"))
    }

    @Test("long key-like values are scrubbed from free text")
    func scrubsTokens() {
        #expect(!RedactingLogHandler.scrub("cookie 0Xj37pWg6qWErkioWGXvzhS1RkEv4M5tD-vZwhmLo1o set").contains("0Xj37pWg6qWE"))
    }

    @Test("short values skip the patterns only when no pattern could match them")
    func shortValues() {
        #expect(RedactingLogHandler.scrub("GET") == "GET")
        #expect(RedactingLogHandler.scrub("200") == "200")
        #expect(RedactingLogHandler.scrub("a@b.io") == "[email]")
        #expect(RedactingLogHandler.scrub("/p?q=ab") == "/p?[query]")
        #expect(RedactingLogHandler.scrub("04123456") == "[number]")
    }

    @Test("a request id is logged whole, so a line can be matched to the response's X-Request-Id")
    func requestIDWhole() {
        let id = UUID().uuidString
        #expect(RedactingLogHandler.redact(key: "request-id", value: .string(id)) == id)
        #expect(RedactingLogHandler.redact(key: "request-id", value: .string("call 0412 345 678")) == "call [number]")
    }

    @Test("each line starts with a UTC timestamp to the second")
    func timestamp() {
        let lines = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "test") { RedactingLogHandler(label: $0) { line in lines.withLockedValue { $0.append(line) } } }
        logger.info("hello")
        let line = lines.withLockedValue { $0.first } ?? ""
        #expect(line.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z info test: hello$"#, options: .regularExpression) != nil, "\(line)")
    }

    // POR-10, DAO-7
    @Test("a whole patient flow writes no password, token or personal value to the log", arguments: TestDatabase.allCases)
    func flowLeavesNothing(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, sent) = try await app.createPatient(owner)
            _ = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients?phone=\((sent["phone"] as! String).replacingOccurrences(of: " ", with: ""))", as: owner)
            _ = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner)
            _ = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": "a wrong password here"])
            let log = LogCapture.all.joined(separator: "\n")
            #expect(log.contains("route=/api/v1/clinics/:clinicId/patients"), "the flow was logged at all")
            let secrets = sent.values.compactMap { $0 as? String } + [owner.email, owner.password, owner.cookie, owner.csrfToken, "a wrong password here"]
            for secret in secrets {
                #expect(!log.contains(secret))
            }
        }
    }
}
