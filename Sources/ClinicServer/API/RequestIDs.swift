import ClinicDomain
import Foundation
import Vapor

extension Request {
    /// An id in the path. One that does not parse is a 404, like one that does not exist.
    func pathID<Subject>(_ name: String, as _: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<Subject> {
        guard let text = parameters.get(name), let id = Identifier<Subject>(string: text) else { throw ClinicError.notFound }
        return id
    }

    /// An optional id in the query string; one that does not parse is bad input.
    func queryID<Subject>(_ name: String, as _: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<Subject>? {
        guard let text = try queryText(name, maximum: 64), !text.isEmpty else { return nil }
        guard let id = Identifier<Subject>(string: text) else { throw ClinicError.invalid(name, "Give an id in UUID form.") }
        return id
    }

    func queryTime(_ name: String) throws -> Date? {
        guard let text = try queryText(name, maximum: 40), !text.isEmpty else { return nil }
        return try Timestamp.parse(text, field: name)
    }
}

/// Ids and times named in a request body.
enum BodyValue {
    static func id<Subject>(_ text: String?, field: String, as _: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<Subject> {
        guard let text else { throw ClinicError.invalid(field, "This id is required.", code: "required") }
        guard let id = Identifier<Subject>(string: text) else { throw ClinicError.invalid(field, "Give an id in UUID form.") }
        return id
    }

    static func optionalID<Subject>(_ text: String?, field: String, as _: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<Subject>? {
        guard let text, !text.isEmpty else { return nil }
        return try id(text, field: field)
    }

    /// A time in ISO 8601, within years a diary can mean.
    static func time(_ text: String?, field: String) throws -> Date {
        guard let text else { throw ClinicError.invalid(field, "Give a time in ISO 8601 form, such as 2026-01-31T09:00:00Z.", code: "required") }
        let date = try Timestamp.parse(text, field: field)
        guard (946_684_800...4_102_444_800).contains(date.timeIntervalSince1970) else {
            throw ClinicError.invalid(field, "Give a time between the years 2000 and 2100.")
        }
        return date
    }
}
