import ClinicDomain
import Foundation
import Testing

/// POR-11: the banding and small-cell rules of the analytics export.
@Suite("Pseudonymised visits")
struct PseudonymisedVisitsTests {
    typealias D = PseudonymisedVisits.Demographics

    /// Every description in the answer is held by at least k patients.
    static func smallestGroup(_ described: [Int: PseudonymisedVisits.Description]) -> Int {
        Dictionary(grouping: described.values, by: { $0 }).values.map(\.count).min() ?? .max
    }

    @Test("five alike keep their five-year band, sex and region")
    func commonDescriptionKept() {
        let patients = Dictionary(uniqueKeysWithValues: (0..<5).map { ($0, D(age: 40 + $0 % 5, sex: .female, region: "NSW")) })
        let described = PseudonymisedVisits.describe(patients, k: 5)
        #expect(described.count == 5)
        #expect(Set(described.values) == [PseudonymisedVisits.Description(ageBand: "40-44", sex: "female", region: "NSW")])
    }

    @Test("too few for a five-year band share a twenty-year one; too few for that lose the region")
    func widenedStepByStep() {
        var patients: [Int: D] = [:]
        for i in 0..<3 { patients[i] = D(age: 41, sex: .male, region: "VIC") }      // 40-44
        for i in 3..<5 { patients[i] = D(age: 57, sex: .male, region: "VIC") }      // 55-59; with the three: 40-59
        for i in 5..<8 { patients[i] = D(age: 30, sex: .female, region: "TAS") }    // alone in TAS
        for i in 8..<10 { patients[i] = D(age: 25, sex: .female, region: "SA") }    // with TAS: 20-39, female, *
        let described = PseudonymisedVisits.describe(patients, k: 5)
        #expect(described.count == 10)
        #expect(described[0] == .init(ageBand: "40-59", sex: "male", region: "VIC"))
        #expect(described[5] == .init(ageBand: "20-39", sex: "female", region: "*"))
        #expect(Self.smallestGroup(described) >= 5)
    }

    @Test("a patient no widening hides is left out, and never sets k below five")
    func leftOut() {
        var patients: [Int: D] = [:]
        for i in 0..<6 { patients[i] = D(age: 33, sex: .female, region: "QLD") }
        patients[6] = D(age: 97, sex: .male, region: "NT")
        patients[7] = D(age: nil, sex: nil, region: nil)
        let described = PseudonymisedVisits.describe(patients, k: 2)
        #expect(described.count == 6)
        #expect(described[6] == nil && described[7] == nil)
        // Asked for k = 2, the two rare ones would have been kept under "*".
        #expect(Self.smallestGroup(described) >= 5)
    }

    @Test("k above five is honoured")
    func largerK() {
        let patients = Dictionary(uniqueKeysWithValues: (0..<6).map { ($0, D(age: 50, sex: .other, region: "WA")) })
        #expect(PseudonymisedVisits.describe(patients, k: 6).count == 6)
        #expect(PseudonymisedVisits.describe(patients, k: 7).isEmpty)
    }

    @Test("a type fewer than k patients had in a month reads 'other' in that month")
    func rareTypes() {
        var visits: [(patient: Int, type: String, month: String)] = (0..<5).map { ($0, "Follow-up", "2026-11") }
        visits += [(0, "Follow-up", "2026-11"), (1, "Home visit", "2026-11"), (2, "Follow-up", "2026-12")]
        let common = PseudonymisedVisits.commonTypes(visits, k: 5)
        #expect(common == [["Follow-up", "2026-11"]])
        // k is never below five: four patients are too few even when asked for k = 2.
        #expect(PseudonymisedVisits.commonTypes(Array(visits.prefix(4)), k: 2).isEmpty)
    }

    @Test("ages band in fives up to 90+, amounts in dollar bands, only visits that happened count")
    func bands() throws {
        #expect(PseudonymisedVisits.ageBand(0) == "0-4" && PseudonymisedVisits.ageBand(44) == "40-44")
        #expect(PseudonymisedVisits.ageBand(89) == "85-89" && PseudonymisedVisits.ageBand(104) == "90+")
        #expect(PseudonymisedVisits.wideAgeBand(79) == "60-79" && PseudonymisedVisits.wideAgeBand(80) == "80+")
        let born = try BirthDate(parsing: "1980-06-15")
        #expect(PseudonymisedVisits.age(born, today: (2026, 6, 14)) == 45)
        #expect(PseudonymisedVisits.age(born, today: (2026, 6, 15)) == 46)
        #expect(PseudonymisedVisits.amountBand(cents: 0) == "0" && PseudonymisedVisits.amountBand(cents: 11_000) == "100-199")
        #expect(PseudonymisedVisits.amountBand(cents: 4_999) == "1-49" && PseudonymisedVisits.amountBand(cents: 75_000) == "500+")
        #expect(PseudonymisedVisits.outcome(.completed) == "attended" && PseudonymisedVisits.outcome(.noShow) == "no-show")
        #expect(PseudonymisedVisits.outcome(.cancelled) == nil && PseudonymisedVisits.outcome(.booked) == nil)
    }

    @Test("an Australian postcode names its state; elsewhere the country and first character")
    func regions() throws {
        let au = CountryCode.australia
        #expect(try Postcode(parsing: "2000", country: au).region(country: au) == "NSW")
        #expect(try Postcode(parsing: "2600", country: au).region(country: au) == "ACT")
        #expect(try Postcode(parsing: "0800", country: au).region(country: au) == "NT")
        #expect(try Postcode(parsing: "3000", country: au).region(country: au) == "VIC")
        #expect(try Postcode(parsing: "7000", country: au).region(country: au) == "TAS")
        let gb = try #require(CountryCode("GB"))
        #expect(try Postcode(parsing: "sw1a 1aa", country: gb).region(country: gb) == "GB-S")
        #expect(throws: ClinicError.self) { try Postcode(parsing: "200", country: au) }
        #expect(throws: ClinicError.self) { try Postcode(parsing: "SW1A\n1AA", country: gb) }
        #expect(throws: ClinicError.self) { try Sex(parsing: "f") }
        #expect(try Sex(parsing: " Female ") == .female)
    }
}
