import Foundation
import Testing
import Vapor
@testable import ClinicServer

/// A signed-in person as a test holds them: cookie, CSRF token, ids, credentials.
public struct TestSession: Sendable {
    public let cookie: String
    public let csrfToken: String
    public let userID: String
    public let clinicID: String
    public let email: String
    public let password: String

    public init(cookie: String, csrfToken: String, userID: String, clinicID: String, email: String, password: String) {
        self.cookie = cookie
        self.csrfToken = csrfToken
        self.userID = userID
        self.clinicID = clinicID
        self.email = email
        self.password = password
    }
}

/// Synthetic people for tests: values distinctive enough to search for in a database file or
/// a log ("canaries"), never real data.
public enum Canary {
    public static func word(_ prefix: String = "Zq") -> String {
        let letters = Array("bcdfghjklmnpqrstvwxz")
        return prefix + String((0..<8).map { _ in letters.randomElement()! })
    }

    public static func email() -> String { "\(word("m").lowercased())@\(word("d").lowercased()).example" }

    /// An Australian mobile number in national form, and its E.164 form.
    public static func mobile() -> (national: String, e164: String) {
        let digits = (0..<8).map { _ in String(Int.random(in: 0...9)) }.joined()
        return ("04" + digits.prefix(2) + " " + digits.dropFirst(2).prefix(3) + " " + digits.suffix(3), "+614" + digits)
    }

    public static let password = "river lantern 7 quietly orbit"

    /// A Medicare number with a valid check digit.
    public static func medicare() -> String {
        var digits = [Int.random(in: 2...6)] + (0..<7).map { _ in Int.random(in: 0...9) }
        let weights = [1, 3, 7, 9, 1, 3, 7, 9]
        digits.append(zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } % 10)
        digits.append(Int.random(in: 1...9))
        return digits.map(String.init).joined()
    }
}

extension ClinicTestApp {
    /// Signs up a new clinic and signs its owner in.
    public func signUpClinic(name: String? = nil, country: String = "AU") async throws -> TestSession {
        let email = Canary.email()
        let created = try await send(.POST, "/api/v1/clinics", json: [
            "name": name ?? "Clinic \(Canary.word())", "country": country,
            "owner": ["email": email, "name": Canary.word("Owner"), "password": Canary.password] as [String: any Sendable],
        ])
        try #require(created.status == .created, "sign-up answered \(created.status): \(created.text)")
        let clinicID = try #require((created.json["clinic"] as? [String: Any])?["id"] as? String)
        let userID = try #require((created.json["user"] as? [String: Any])?["id"] as? String)
        return try await logIn(email: email, password: Canary.password, clinicID: clinicID, userID: userID)
    }

    public func logIn(email: String, password: String, clinicID: String, userID: String) async throws -> TestSession {
        let login = try await send(.POST, "/api/v1/auth/login", json: ["email": email, "password": password])
        try #require(login.status == .ok, "login answered \(login.status): \(login.text)")
        let cookie = try #require(login.setCookie(SessionStore.cookieName)?.value)
        let csrf = try #require(login.json["csrfToken"] as? String)
        return TestSession(cookie: cookie, csrfToken: csrf, userID: userID, clinicID: clinicID, email: email, password: password)
    }

    /// Creates a patient with canary values; returns its id and what was sent.
    public func createPatient(_ session: TestSession, _ fields: [String: any Sendable]? = nil) async throws -> (id: String, fields: [String: any Sendable]) {
        let phone = Canary.mobile()
        let body = fields ?? [
            "givenName": Canary.word("Gv"), "familyName": Canary.word("Fm"), "birthDate": "1979-03-14",
            "phone": phone.national, "email": Canary.email(), "address": "\(Int.random(in: 10...999)) \(Canary.word("St")) Road",
            "medicareNumber": Canary.medicare(),
        ]
        let response = try await send(.POST, "/api/v1/clinics/\(session.clinicID)/patients", json: body, as: session)
        try #require(response.status == .created, "create answered \(response.status): \(response.text)")
        return (try #require(response.json["id"] as? String), body)
    }
}

extension ClinicTestApp {
    /// Invites a new person into the owner's clinic with `roles`, accepts, and signs them in.
    public func addMember(to owner: TestSession, roles: [String]) async throws -> TestSession {
        let email = Canary.email()
        let invited = try await send(.POST, "/api/v1/clinics/\(owner.clinicID)/staff",
                                     json: ["email": email, "name": Canary.word("Staff"), "roles": roles], as: owner)
        try #require(invited.status == .created, "invite answered \(invited.status): \(invited.text)")
        let token = try #require(invited.json["inviteToken"] as? String)
        let accepted = try await send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token, "password": Canary.password])
        try #require(accepted.status == .created, "accept answered \(accepted.status): \(accepted.text)")
        let userID = try #require(accepted.json["userId"] as? String)
        return try await logIn(email: email, password: Canary.password, clinicID: owner.clinicID, userID: userID)
    }
}
