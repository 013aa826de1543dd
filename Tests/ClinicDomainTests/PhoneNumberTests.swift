import Testing
import ClinicDomain

@Suite("Phone numbers")
struct PhoneNumberTests {
    @Test("national and international forms of one number read the same", arguments: [
        "0412 345 678", "0412345678", "+61 412 345 678", "+61412345678", "(04) 1234-5678", "0061 412 345 678",
    ])
    func australianForms(_ input: String) throws {
        #expect(try PhoneNumber(parsing: input, country: .australia).e164 == "+61412345678")
    }

    @Test("a national number is read in the clinic's country")
    func otherCountries() throws {
        #expect(try PhoneNumber(parsing: "021 123 4567", country: CountryCode("NZ")!).e164 == "+64211234567")
        #expect(try PhoneNumber(parsing: "(415) 555-2671", country: CountryCode("US")!).e164 == "+14155552671")
        #expect(try PhoneNumber(parsing: "8123 4567", country: CountryCode("SG")!).e164 == "+6581234567")
    }

    // DC-16
    @Test("malformed numbers are refused naming the phone field", arguments: ["", "04123", "0412 345 6789", "phone me", "+0412345678", "0412<345>678"])
    func refused(_ input: String) {
        #expect(throws: ClinicError.self) { try PhoneNumber(parsing: input, country: .australia) }
        do { _ = try PhoneNumber(parsing: input, country: .australia) } catch { #expect(error.field == "phone") }
    }
}
