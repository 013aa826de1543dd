import ClinicTestSupport
import Crypto
import Foundation
import NIOConcurrencyHelpers
import Testing
import Vapor

/// A small k-anonymity range service, as the test's own HTTP server: it lists one breached
/// password's SHA-1 suffix among decoys, and remembers every path it was asked for.
final class RangeService: Sendable {
    let app: Application
    let port: Int
    let requested = NIOLockedValueBox<[String]>([])

    init(breached: String) async throws {
        let digest = Insecure.SHA1.hash(data: Data(breached.utf8)).map { String(format: "%02X", $0) }.joined()
        let prefix = String(digest.prefix(5)), suffix = String(digest.dropFirst(5))
        app = try await Application.make(.testing)
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        let requested = self.requested
        app.get("range", ":prefix") { request -> String in
            let asked = request.parameters.get("prefix") ?? ""
            requested.withLockedValue { $0.append(request.url.path) }
            var lines = (0..<20).map { _ in String(format: "%035X", Int.random(in: 0..<Int.max)).suffix(35) + ":\(Int.random(in: 1...500))" }
            if asked == prefix { lines.insert("\(suffix):3730471", at: 7) }
            return lines.joined(separator: "\r\n")
        }
        try await app.server.start()
        port = app.http.server.shared.localAddress?.port ?? 0
    }

    func stop() async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}

@Suite("Breached passwords (k-anonymity range)")
struct BreachedPasswordTests {
    // DC-4, ASVS 2.1.7
    @Test("a password the range service lists is refused; only a five-character prefix leaves the server")
    func refused() async throws {
        let breached = "correct horse battery staple"
        let range = try await RangeService(breached: breached)
        do {
            try await ClinicTestApp.with(.sqlite, adjust: { $0.breachedRangeURL = "http://127.0.0.1:\(range.port)/range" }) { app in
                let refused = try await app.send(.POST, "/api/v1/clinics", json: [
                    "name": "Clinic", "owner": ["email": Canary.email(), "name": "Owner", "password": breached] as [String: any Sendable]])
                #expect(refused.status == .badRequest && refused.errorCode == "password_breached")
                _ = try await app.signUpClinic()
            }
            let paths = range.requested.withLockedValue { $0 }
            #expect(paths.count == 2)
            #expect(paths.allSatisfy { $0.range(of: #"^/range/[0-9A-F]{5}$"#, options: .regularExpression) != nil })
        } catch {
            try await range.stop()
            throw error
        }
        try await range.stop()
    }

    // Review round 2, part C: the test now checks the shipped list still applies.
    @Test("an unreachable range service does not stop sign-up (the shipped list still applies)")
    func unreachable() async throws {
        try await ClinicTestApp.with(.sqlite, adjust: { $0.breachedRangeURL = "http://127.0.0.1:9/range" }) { app in
            _ = try await app.signUpClinic()
            let common = try await app.send(.POST, "/api/v1/clinics", json: [
                "name": "Clinic", "owner": ["email": Canary.email(), "name": "Owner", "password": "1qaz2wsx3edc"] as [String: any Sendable]])
            #expect(common.status == .badRequest && common.errorCode == "password_common")
        }
    }
}
