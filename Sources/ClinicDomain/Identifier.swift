import Foundation

/// A typed id: a `PatientID` cannot be passed where a `ClinicID` is expected.
///
/// Ids are random UUIDs. They name things; they are never secrets.
public struct Identifier<Subject>: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID

    public init(_ rawValue: UUID) { self.rawValue = rawValue }

    public static func random() -> Self { Self(UUID()) }

    /// Parses the canonical text form; `nil` for anything else, so a bad id in a path is a 404, not a 500.
    public init?(string: String) {
        guard let uuid = UUID(uuidString: string) else { return nil }
        self.rawValue = uuid
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue.uuidString.lowercased() }

    /// An id a client named in a field: required, and in UUID form.
    public static func required(_ text: String?, field: String) throws(ClinicError) -> Self {
        guard let text else { throw .invalid(field, "This id is required.", code: "required") }
        guard let id = Self(string: text) else { throw .invalid(field, "Give an id in UUID form.") }
        return id
    }
}

public enum ClinicSubject {}
/// For records kept under a bare UUID: the id parses like every other.
public enum UntypedSubject {}
public enum PatientSubject {}
public enum UserSubject {}
public enum SessionSubject {}
public enum AppointmentSubject {}
public enum AppointmentTypeSubject {}
public enum ConsultationSubject {}
public enum AmendmentSubject {}
public enum PrescriptionSubject {}
public enum FormulaSubject {}
public enum ContactSubject {}
public enum ProductSubject {}
public enum InvoiceSubject {}

public typealias ClinicID = Identifier<ClinicSubject>
public typealias PatientID = Identifier<PatientSubject>
public typealias UserID = Identifier<UserSubject>
public typealias SessionID = Identifier<SessionSubject>
public typealias AppointmentID = Identifier<AppointmentSubject>
public typealias AppointmentTypeID = Identifier<AppointmentTypeSubject>
public typealias ConsultationID = Identifier<ConsultationSubject>
public typealias AmendmentID = Identifier<AmendmentSubject>
public typealias PrescriptionID = Identifier<PrescriptionSubject>
public typealias ContactID = Identifier<ContactSubject>
public typealias ProductID = Identifier<ProductSubject>
public typealias InvoiceID = Identifier<InvoiceSubject>
public typealias FormulaID = Identifier<FormulaSubject>
