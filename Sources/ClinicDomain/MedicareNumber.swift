/// A government or insurer number. In Australia it is a Medicare card number, whose check
/// digit is verified; elsewhere any 4 to 20 letters and digits are accepted.
public struct MedicareNumber: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    public init(parsing input: String, country: CountryCode) throws(ClinicError) {
        let compact = String(input.filter { !$0.isWhitespace && $0 != "-" && $0 != "/" }).uppercased()
        if country == .australia {
            let bad = ClinicError.invalid("medicareNumber", "Enter the 10 digits of the Medicare card, optionally followed by the 1-digit reference number.")
            guard compact.count == 10 || compact.count == 11, compact.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw bad }
            let digits = compact.compactMap { $0.wholeNumberValue }
            guard (2...6).contains(digits[0]) else { throw bad }
            // Services Australia's check digit: weights 1,3,7,9,1,3,7,9 over the first eight digits.
            let weights = [1, 3, 7, 9, 1, 3, 7, 9]
            let sum = zip(digits.prefix(8), weights).reduce(0) { $0 + $1.0 * $1.1 }
            guard sum % 10 == digits[8] else {
                throw ClinicError.invalid("medicareNumber", "This Medicare number's check digit does not match; check the number on the card.")
            }
            self.value = compact
        } else {
            guard (4...20).contains(compact.count), compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw ClinicError.invalid("medicareNumber", "Enter 4 to 20 letters and digits.")
            }
            self.value = compact
        }
    }
}

extension MedicareNumber {
    /// A number that was validated when it was stored (opened from a sealed field).
    public init(storedValue: String) { self.value = storedValue }
}
