/// The diary as a front desk reads it: a grid of five-minute rows down the day, one column per
/// practitioner (or per day), working time told apart from the rest, and each booking one block
/// as tall as it is long. Laid out as a table (a block is a cell spanning its rows), so a page
/// draws it with `rowspan` and classes alone: no script, no inline style.
public struct DiaryGrid<Booking: Sendable>: Sendable {
    public static var rowMinutes: Int { 5 }

    /// One column's day: when the practitioner works (an empty list: no hours set, so open
    /// all day, as booking treats it) and what is booked, in minutes after local midnight.
    public struct Column: Sendable {
        public let working: [(start: Int, end: Int)]
        public let bookings: [(start: Int, end: Int, booking: Booking)]

        public init(working: [(start: Int, end: Int)], bookings: [(start: Int, end: Int, booking: Booking)]) {
            self.working = working
            self.bookings = bookings
        }
    }

    public enum Cell: Sendable {
        /// A booking's block, starting in this row and spanning `rows` rows.
        case booking(Booking, rows: Int)
        /// An empty five minutes, in working time or not.
        case free(working: Bool)
    }

    /// The first minute shown (on the hour) and the cells of each row; a row has no cell for a
    /// column where a block from above still runs.
    public let firstMinute: Int
    public let rows: [[(column: Int, cell: Cell)]]

    /// Lays `columns` out from the earliest of their working time and bookings to the latest,
    /// widened to whole hours (08:00 to 18:00 when there is nothing to show). Every booking is
    /// drawn: a block that would run into the next booking's row stops there (its times are on
    /// it), and one that starts within an earlier block's last row is drawn just below it.
    public init(columns: [Column]) {
        let starts = columns.flatMap { $0.working.map(\.start) + $0.bookings.map(\.start) }
        let ends = columns.flatMap { $0.working.map(\.end) + $0.bookings.map(\.end) }
        let first = (starts.min() ?? 8 * 60) / 60 * 60
        let last = min(24 * 60, ((ends.max() ?? 18 * 60) + 59) / 60 * 60)
        let count = max(1, (last - first) / Self.rowMinutes)
        var rows = [[(column: Int, cell: Cell)]](repeating: [], count: count)
        for (index, column) in columns.enumerated() {
            let bookings = column.bookings.sorted { $0.start < $1.start }
            var next = 0, coveredUntil = 0
            for row in 0..<count where row >= coveredUntil {
                let minute = first + row * Self.rowMinutes
                // A booking is drawn in the row its start falls in, or the first free row after
                // it when blocks before it ran on (two starting within five minutes, or a block
                // cut short below); never dropped.
                if next < bookings.count, bookings[next].start < minute + Self.rowMinutes {
                    let booking = bookings[next]
                    next += 1
                    var span = max(1, (booking.end - minute + Self.rowMinutes - 1) / Self.rowMinutes)
                    // It ends where the next one starts, so the next is drawn where it begins.
                    if next < bookings.count {
                        span = min(span, max(1, (bookings[next].start - first) / Self.rowMinutes - row))
                    }
                    span = min(span, count - row)
                    rows[row].append((index, .booking(booking.booking, rows: span)))
                    coveredUntil = row + span
                    continue
                }
                let working = column.working.isEmpty || column.working.contains { $0.start <= minute && minute < $0.end }
                rows[row].append((index, .free(working: working)))
            }
        }
        firstMinute = first
        self.rows = rows
    }
}
