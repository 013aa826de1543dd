import ClinicTestSupport
import Foundation
import Testing
@testable import ClinicServer

/// Security review round 2, A11 (DAO-2, POR-1): nothing personal crosses a network in the clear
/// by a setting's default.
@Suite("Transport settings")
struct TransportSettingsTests {
    func settings(_ environment: [String: String]) throws -> ServerSettings { try ServerSettings.fromEnvironment(environment) }

    @Test("PostgreSQL on another machine needs TLS in the URL, or an explicit opt-out that is logged")
    func databaseNeedsTLS() throws {
        let remote = "postgres://app:pw@db.internal.example:5432/clinickeep"
        #expect(throws: SettingsError.self) { _ = try settings(["DATABASE_URL": remote]).checkTransport() }
        #expect(throws: SettingsError.self) { _ = try settings(["DATABASE_URL": remote + "?sslmode=prefer"]).checkTransport() }
        #expect(throws: SettingsError.self) {
            _ = try settings(["DATABASE_URL": "postgres://a:b@127.0.0.1/x", "CLINICKEEP_MIGRATION_DATABASE_URL": remote]).checkTransport()
        }
        #expect(try settings(["DATABASE_URL": remote + "?sslmode=verify-full"]).checkTransport().isEmpty)
        #expect(try settings(["DATABASE_URL": remote + "?sslmode=require"]).checkTransport().isEmpty)
        #expect(try settings(["DATABASE_URL": "postgres://a:b@127.0.0.1:55432/x"]).checkTransport().isEmpty)
        #expect(try settings(["DATABASE_URL": "postgres://a:b@localhost/x"]).checkTransport().isEmpty)
        let warnings = try settings(["DATABASE_URL": remote, "CLINICKEEP_DATABASE_ALLOW_PLAINTEXT": "1"]).checkTransport()
        #expect(warnings.count == 1 && warnings[0].contains("WITHOUT TLS"))
    }

    @Test("plain HTTP is only for a proxy on this machine")
    func plainHTTPOnLoopback() throws {
        var behindProxy = try settings(["CLINICKEEP_TLS": "off"])
        #expect(try behindProxy.checkTransport().isEmpty)
        behindProxy.hostname = "0.0.0.0"
        #expect(throws: SettingsError.self) { _ = try behindProxy.checkTransport() }
    }

    @Test("the SMS provider is reached over https, or http on loopback only, and sends from an E.164 number")
    func smsProviderOverTLS() throws {
        let twilio = ["CLINICKEEP_SMS_PROVIDER": "twilio", "CLINICKEEP_TWILIO_ACCOUNT_SID": "AC1", "CLINICKEEP_TWILIO_AUTH_TOKEN": "t",
                      "CLINICKEEP_SMS_FROM": "+61400000001"]
        #expect(try settings(twilio).sms?.baseURL == "https://api.twilio.com")
        #expect(throws: SettingsError.self) { _ = try settings(twilio.merging(["CLINICKEEP_TWILIO_BASE_URL": "http://sms.example"]) { $1 }) }
        #expect(try settings(twilio.merging(["CLINICKEEP_TWILIO_BASE_URL": "http://127.0.0.1:9/"]) { $1 }).sms?.baseURL == "http://127.0.0.1:9")
        #expect(throws: SettingsError.self) { _ = try settings(twilio.merging(["CLINICKEEP_SMS_FROM": "0400 000 001"]) { $1 }) }
        #expect(throws: SettingsError.self) { _ = try settings(twilio.filter { $0.key != "CLINICKEEP_TWILIO_AUTH_TOKEN" }) }
        #expect(throws: SettingsError.self) { _ = try settings(["CLINICKEEP_SMS_PROVIDER": "pigeon"]) }
        // Without an operator account the address still holds, for clinics' own accounts.
        #expect(throws: SettingsError.self) { _ = try settings(["CLINICKEEP_TWILIO_BASE_URL": "http://sms.example"]) }
        #expect(try settings(["CLINICKEEP_TWILIO_BASE_URL": "http://[::1]:9"]).twilioBaseURL == "http://[::1]:9")
    }

    @Test("the breached-password range service is reached over https, or http on loopback only")
    func rangeServiceOverTLS() throws {
        #expect(throws: SettingsError.self) { _ = try settings(["CLINICKEEP_BREACHED_RANGE_URL": "http://range.example/range"]) }
        #expect(try settings(["CLINICKEEP_BREACHED_RANGE_URL": "https://range.example/range"]).breachedRangeURL == "https://range.example/range")
        #expect(try settings(["CLINICKEEP_BREACHED_RANGE_URL": "http://127.0.0.1:9/range"]).breachedRangeURL != nil)
    }
}
