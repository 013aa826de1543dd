import Foundation

/// A telephone number in E.164 form (`+61412345678`), read from national or international
/// input in the clinic's country. Stored, indexed and compared only in this form, so
/// `0412 345 678` and `+61 412 345 678` find the same patient.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    public let e164: String

    public var description: String { e164 }

    /// "+" and 7 to 15 digits, the first not 0 (ITU-T E.164): the only form sent to a provider.
    public static func isE164(_ text: String) -> Bool {
        let digits = text.dropFirst()
        return text.first == "+" && (7...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber } && digits.first != "0"
    }

    public init(parsing input: String, country: CountryCode) throws(ClinicError) {
        let bad = ClinicError.invalid("phone", "Enter a phone number such as \(country.rules.example) or in international form starting with +.")
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 32 else { throw bad }
        let allowedPunctuation: Set<Character> = [" ", "-", ".", "(", ")", "\u{00A0}"]
        var international = false
        if text.hasPrefix("+") {
            international = true
            text.removeFirst()
        }
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if !allowedPunctuation.contains(character) {
                throw bad
            }
        }
        if !international, digits.hasPrefix("00") {
            // The international call prefix used in most countries.
            international = true
            digits.removeFirst(2)
        }
        if international {
            guard (8...15).contains(digits.count), digits.first != "0" else { throw bad }
            self.e164 = "+" + digits
            return
        }
        let rules = country.rules
        if let trunk = rules.trunkPrefix, digits.hasPrefix(trunk) {
            digits.removeFirst(trunk.count)
        }
        guard rules.nationalLengths.contains(digits.count), digits.first != "0" else { throw bad }
        self.e164 = "+" + rules.callingCode + digits
    }
}

/// An ISO 3166-1 alpha-2 country code that ClinicKeep knows how to read phone numbers for.
public struct CountryCode: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public var description: String { rawValue }

    public init?(_ text: String) {
        let upper = text.uppercased()
        guard Self.table[upper] != nil else { return nil }
        self.rawValue = upper
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = CountryCode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown country"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static let australia = CountryCode("AU")!
    public static var supported: [String] { table.keys.sorted() }

    struct Rules: Sendable {
        let callingCode: String
        let trunkPrefix: String?
        let nationalLengths: ClosedRange<Int>
        let example: String
    }

    var rules: Rules { Self.table[rawValue]! }

    // National significant number lengths, from the ITU-T numbering plans of each country.
    private static let table: [String: Rules] = [
        "AU": Rules(callingCode: "61", trunkPrefix: "0", nationalLengths: 9...9, example: "0412 345 678"),
        "NZ": Rules(callingCode: "64", trunkPrefix: "0", nationalLengths: 8...10, example: "021 123 4567"),
        "GB": Rules(callingCode: "44", trunkPrefix: "0", nationalLengths: 9...10, example: "07700 900123"),
        "IE": Rules(callingCode: "353", trunkPrefix: "0", nationalLengths: 7...9, example: "085 123 4567"),
        "US": Rules(callingCode: "1", trunkPrefix: nil, nationalLengths: 10...10, example: "(415) 555-2671"),
        "CA": Rules(callingCode: "1", trunkPrefix: nil, nationalLengths: 10...10, example: "(416) 555-0123"),
        "SG": Rules(callingCode: "65", trunkPrefix: nil, nationalLengths: 8...8, example: "8123 4567"),
        "MY": Rules(callingCode: "60", trunkPrefix: "0", nationalLengths: 8...10, example: "012 345 6789"),
        "HK": Rules(callingCode: "852", trunkPrefix: nil, nationalLengths: 8...8, example: "5123 4567"),
        "CN": Rules(callingCode: "86", trunkPrefix: "0", nationalLengths: 10...11, example: "131 2345 6789"),
        "TW": Rules(callingCode: "886", trunkPrefix: "0", nationalLengths: 8...9, example: "0912 345 678"),
        "IN": Rules(callingCode: "91", trunkPrefix: "0", nationalLengths: 10...10, example: "091234 56789"),
        "DE": Rules(callingCode: "49", trunkPrefix: "0", nationalLengths: 7...12, example: "030 123456"),
        "FR": Rules(callingCode: "33", trunkPrefix: "0", nationalLengths: 9...9, example: "06 12 34 56 78"),
    ]
}

extension PhoneNumber {
    /// A number that was validated when it was stored (opened from a sealed field).
    public init(storedE164: String) { self.e164 = storedE164 }
}
