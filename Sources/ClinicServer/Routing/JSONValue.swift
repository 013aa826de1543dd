import Foundation

/// A JSON value written as a Swift literal: how the OpenAPI document is assembled.
indirect enum JSONValue: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByArrayLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    case string(String), number(Int), bool(Bool), array([JSONValue]), object([(String, JSONValue)]), null

    init(stringLiteral value: String) { self = .string(value) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int) { self = .number(value) }

    private struct CodingName: CodingKey {
        let stringValue: String
        init(_ string: String) { self.stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case let .string(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case let .number(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case let .bool(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case let .array(values):
            var c = encoder.unkeyedContainer()
            for value in values { try c.encode(value) }
        case let .object(pairs):
            var c = encoder.container(keyedBy: CodingName.self)
            for (key, value) in pairs { try c.encode(value, forKey: CodingName(key)) }
        }
    }

    subscript(key: String) -> JSONValue? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }
}
