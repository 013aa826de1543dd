import ClinicDomain
import Testing

@Suite("Paging")
struct PagingTests {
    @Test("a list asked without a page gets its standard size from the first row")
    func standardPage() throws {
        #expect(try Paging(limit: nil, offset: nil, sizes: .records) == Paging(limit: 50, offset: 0))
        #expect(try Paging(limit: nil, offset: nil, sizes: .diary) == Paging(limit: 200, offset: 0))
    }

    @Test("a limit from 1 to the list's largest and an offset up to a million are taken as asked")
    func inRange() throws {
        #expect(try Paging(limit: "200", offset: "1000000", sizes: .records) == Paging(limit: 200, offset: 1_000_000))
        #expect(try Paging(limit: "1", offset: "0", sizes: .audit).limit == 1)
    }

    @Test("anything else is refused naming the field", arguments: [
        ("0", nil, "limit"), ("201", nil, "limit"), ("x", nil, "limit"), ("-1", nil, "limit"), ("", nil, "limit"),
        ("99999999999999999999", nil, "limit"), (nil, "-1", "offset"), (nil, "1000001", "offset"), (nil, "1e3", "offset"),
    ] as [(String?, String?, String)])
    func refused(_ limit: String?, _ offset: String?, _ field: String) {
        #expect { try Paging(limit: limit, offset: offset, sizes: .records) } throws: { error in
            (error as? ClinicError)?.field == field && (error as? ClinicError)?.status == 400
        }
    }
}
