/// How big a page of a list may be. Each list names its sizes once, and both the request's
/// parsing and the OpenAPI document read them from here, so what is documented is what is enforced.
public struct PageSizes: Sendable, Equatable {
    /// Rows when the request names no limit.
    public let standard: Int
    /// The most rows a request may ask for.
    public let largest: Int

    public init(standard: Int, largest: Int) {
        precondition(1 <= standard && standard <= largest, "a page's standard size is from 1 to its largest")
        self.standard = standard
        self.largest = largest
    }

    /// Patients, consultations, prescriptions, break-glass grants: sealed rows, opened one by one.
    public static let records = PageSizes(standard: 50, largest: 200)
    /// Appointments and products: a diary's week, a shop's shelf.
    public static let diary = PageSizes(standard: 200, largest: 500)
    /// Invoices and contacts.
    public static let registers = PageSizes(standard: 100, largest: 500)
    /// Audit events (read without an offset: a period and a limit).
    public static let audit = PageSizes(standard: 500, largest: 5000)
}

/// One page of a list: at most `limit` rows, after skipping `offset`. Every list pages this way.
public struct Paging: Sendable, Equatable {
    public let limit: Int
    public let offset: Int

    /// The furthest a request may skip: past it, a client should narrow its question instead.
    public static let largestOffset = 1_000_000

    /// A page the server chooses itself (a page of the web interface), not one a client asked for.
    public init(limit: Int, offset: Int = 0) {
        precondition(limit >= 1 && (0...Self.largestOffset).contains(offset), "a page has at least one row and a bounded offset")
        self.limit = limit
        self.offset = offset
    }

    /// A page a client asked for, as the query's text: absent means the list's standard size and
    /// the first row; anything but a whole number in range is refused naming the field.
    public init(limit: String?, offset: String?, sizes: PageSizes) throws(ClinicError) {
        self.limit = try Self.number(limit, field: "limit", default: sizes.standard, range: 1...sizes.largest)
        self.offset = try Self.number(offset, field: "offset", default: 0, range: 0...Self.largestOffset)
    }

    private static func number(_ text: String?, field: String, default standard: Int, range: ClosedRange<Int>) throws(ClinicError) -> Int {
        guard let text else { return standard }
        guard text.utf8.count <= 12, let value = Int(text), range.contains(value) else {
            throw .invalid(field, "Give a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }
}
