import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Allowed methods")
struct AllowedMethodsTests {
    @Test("a method a path does not take answers 405 naming those it does; an unknown path answers 404")
    func methodNotAllowed() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let trace = try await app.send(.TRACE, "/api/v1/me", as: owner)
            #expect(trace.status == .methodNotAllowed && trace.errorCode == "method_not_allowed")
            #expect(trace.headers.first(name: .allow) == "GET")
            let put = try await app.send(.PUT, "/api/v1/clinics/\(owner.clinicID)/patients/\(UUID())", as: owner)
            #expect(put.status == .methodNotAllowed && put.headers.first(name: .allow) == "DELETE, GET, PATCH")
            #expect(try await app.send(.GET, "/api/v1/no-such-thing", as: owner).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .ok)
        }
    }
}
