import ClinicDomain
import Foundation
import Vapor

extension Request {
    /// An id in the path. One that does not parse is a 404, like one that does not exist.
    func pathID<Subject>(_ name: String, as _: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<Subject> {
        guard let text = parameters.get(name), let id = Identifier<Subject>(string: text) else { throw ClinicError.notFound }
        return id
    }

    /// The same for records the repositories keep under a bare UUID (tokens, files, secrets,
    /// invitations, support requests): parsed the same way, a 404 the same way.
    func pathUUID(_ name: String) throws -> UUID {
        try pathID(name, as: Identifier<UntypedSubject>.self).rawValue
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
        try Identifier<Subject>.required(text, field: field)
    }

    static func optionalID<Subject>(_ text: String?, field: String, as _: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<Subject>? {
        guard let text, !text.isEmpty else { return nil }
        return try id(text, field: field)
    }

    /// A time in ISO 8601, within years a diary can mean.
    static func time(_ text: String?, field: String) throws -> Date {
        guard let text else { throw ClinicError.invalid(field, "Give a time in ISO 8601 form, such as 2026-01-31T09:00:00Z.", code: "required") }
        return try DiaryTime.checked(try Timestamp.parse(text, field: field), field: field)
    }
}
