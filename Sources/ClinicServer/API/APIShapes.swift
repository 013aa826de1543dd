import ClinicDomain
import Foundation
import Vapor

/// The JSON bodies of the API, as the OpenAPI document describes them.
enum APIShapes {
    struct SignUpRequest: Content {
        struct Owner: Content {
            let email: String?
            let name: String?
            let password: String?
        }
        let name: String?
        let country: String?
        let owner: Owner?
    }

    struct SignUpResponse: Content {
        struct Clinic: Content { let id: String; let name: String }
        struct User: Content { let id: String }
        let clinic: Clinic
        let user: User
    }

    struct LoginRequest: Content {
        let email: String?
        let password: String?
    }

    struct LoginResponse: Content {
        let next: String
        let csrfToken: String
        /// A clinic of the person's requires MFA of their role and they have none yet.
        let mfaEnrolmentRequired: Bool
    }

    struct MeResponse: Content {
        struct User: Content { let id: String; let email: String; let name: String }
        struct Membership: Content { let clinicId: String; let clinicName: String; let roles: [String] }
        struct MFA: Content { let totp: Bool; let passkeys: Int }
        let user: User
        let memberships: [Membership]
        let mfa: MFA
    }

    struct Patient: Content {
        let id: String
        let givenName: String
        let familyName: String
        let birthDate: String?
        let phone: String?
        let email: String?
        let address: String?
        let medicareNumber: String?
        let sex: String?
        let postcode: String?
        let createdAt: String
        let updatedAt: String

        init(_ record: PatientRecord) {
            id = record.id.description
            givenName = record.details.givenName
            familyName = record.details.familyName
            birthDate = record.details.birthDate?.description
            phone = record.details.phone?.e164
            email = record.details.email?.value
            address = record.details.address
            medicareNumber = record.details.medicareNumber?.value
            sex = record.details.sex?.rawValue
            postcode = record.details.postcode?.value
            createdAt = Timestamp.string(record.createdAt)
            updatedAt = Timestamp.string(record.updatedAt)
        }
    }

    struct PatientList: Content {
        let patients: [Patient]
    }

    struct AuditEventList: Content {
        struct Event: Content {
            let sequence: Int64
            let occurredAt: String
            let actorId: String?
            let action: String
            let resourceType: String?
            let resourceId: String?
            let outcome: String
            let address: String?
            let requestId: String?
            let detail: String?
        }
        let events: [Event]
    }

    struct SignInFailureList: Content {
        struct Address: Content {
            let address: String
            let failures: Int64
            let accounts: Int64
            let lastAt: String
        }
        let addresses: [Address]
    }
}

enum Timestamp {
    // A format style rather than a new ISO8601DateFormatter per value: creating that formatter
    // was 15% of the server's CPU when reading a patient (bench/run W1, issue 9). The style
    // truncates to the millisecond where the formatter rounded.
    static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func string(_ date: Date) -> String {
        date.formatted(style)
    }

    static func parse(_ text: String, field: String) throws -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        throw ClinicError.invalid(field, "Give a time in ISO 8601 form, such as 2026-01-31T09:00:00Z.")
    }
}

extension Request {
    /// Decodes a JSON body, turning a missing or non-JSON body into a clear 4xx.
    func decodeBody<T: Decodable>(_ type: T.Type) throws -> T {
        guard headers.contentType == .json else {
            throw ClinicError(status: 415, code: "unsupported_media_type", message: "Send a JSON body with Content-Type: application/json.")
        }
        guard let body = body.data, body.readableBytes > 0 else {
            throw ClinicError(status: 400, code: "invalid_body", message: "The request needs a JSON body.")
        }
        return try JSONDecoder().decode(T.self, from: body)
    }

    /// An optional query parameter as text, refusing absurd lengths.
    func queryText(_ name: String, maximum: Int = 200) throws -> String? {
        guard let value = try? query.get(String.self, at: name) else { return nil }
        guard value.unicodeScalars.count <= maximum else { throw ClinicError.invalid(name, "Use at most \(maximum) characters.") }
        return value
    }

    /// The page of a list the client asked for (`limit`, `offset`), in the list's own sizes.
    func paging(_ sizes: PageSizes) throws -> Paging {
        try Paging(limit: queryText("limit", maximum: 12), offset: queryText("offset", maximum: 12), sizes: sizes)
    }

    func queryInt(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try queryText(name, maximum: 12) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ClinicError.invalid(name, "Give a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }
}
