import Foundation

/// A postal code, kept apart from the free-text address so that figures can be banded by region
/// without reading an address. In Australia and New Zealand it is four digits; elsewhere 3 to 10
/// letters, digits, spaces or hyphens, written in capitals.
public struct Postcode: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    public init(parsing input: String, country: CountryCode) throws(ClinicError) {
        let trimmed = input.trimmingCharacters(in: .whitespaces).uppercased()
        if country == .australia || country.rawValue == "NZ" {
            guard trimmed.count == 4, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw ClinicError.invalid("postcode", "Enter the 4-digit postcode.")
            }
        } else {
            guard (3...10).contains(trimmed.count),
                  trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == "-") }) else {
                throw ClinicError.invalid("postcode", "Enter 3 to 10 letters, digits, spaces or hyphens.")
            }
        }
        value = trimmed
    }

    /// A postcode that was validated when it was stored (opened from a sealed field).
    public init(storedValue: String) { value = storedValue }

    /// The region the postcode lies in, coarse enough to be shared: an Australian state or
    /// territory (Australia Post's ranges); elsewhere the country and the postcode's first
    /// character, which names a broad area in most national schemes (a US ZIP's first digit
    /// covers several states, a UK postcode's first letter a region of millions).
    public func region(country: CountryCode) -> String {
        guard country == .australia, let number = Int(value) else {
            return country.rawValue + "-" + String(value.prefix(1))
        }
        switch number {
        case 200...299, 2600...2618, 2900...2920: return "ACT"
        case 800...999: return "NT"
        case 1000...2599, 2619...2899, 2921...2999: return "NSW"
        case 3000...3999, 8000...8999: return "VIC"
        case 4000...4999, 9000...9999: return "QLD"
        case 5000...5999: return "SA"
        case 6000...6999: return "WA"
        case 7000...7999: return "TAS"
        default: return "AU-other"
        }
    }
}
