import ClinicDomain
import Testing

@Suite("Stock changes")
struct StockChangeTests {
    @Test("a change of zero, beyond a million either way, or of the most negative integer is refused, not trapped")
    func boundsRefused() {
        for delta in [0, 1_000_001, -1_000_001, Int.min, Int.max] {
            #expect(throws: ClinicError.self, "\(delta)") { try StockChange(delta: delta, reason: "sold") }
        }
        #expect(throws: ClinicError.self) { try StockChange(delta: nil, reason: "sold") }
    }

    @Test("a counted change names its reason from the list")
    func reasons() throws {
        #expect(try StockChange(delta: -1_000_000, reason: "written_off").reason == .writtenOff)
        #expect(throws: ClinicError.self) { try StockChange(delta: 1, reason: "found") }
    }

    @Test("provider numbers are kept as issued, upper-cased without spaces; anything else is refused")
    func providerNumbers() throws {
        #expect(try ProviderNumber(parsing: " 242 6621b ").value == "2426621B")
        for bad in ["", "1", "24-26621B", "２４２６６２１Ｂ", String(repeating: "1", count: 21)] {
            #expect(throws: ClinicError.self, "\(bad)") { try ProviderNumber(parsing: bad) }
        }
    }
}
