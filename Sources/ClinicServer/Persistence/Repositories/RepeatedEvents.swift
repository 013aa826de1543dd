import Foundation
import NIOConcurrencyHelpers

/// Events anyone outside can cause on every request (a throttled sign-in, a probe of another
/// clinic) are recorded once per subject a minute, so the permanent ledger stays a record and
/// not a flood (review round 2, A5). The first occurrence is always recorded; later ones in the
/// same minute are counted, and the count rides on the next one recorded (`repeated=N`).
///
/// Kept in this process: each instance records at most one a minute per subject. Past
/// `capacity` live subjects (only a flood from thousands of addresses gets there) it records
/// everything rather than lose an event.
final class RepeatedEvents: Sendable {
    struct Admission: Sendable {
        let record: Bool
        /// Occurrences in the previous window that were counted, not recorded.
        let repeated: Int
    }

    let window: TimeInterval
    let capacity: Int
    private let windows = NIOLockedValueBox<[String: (start: Date, repeated: Int)]>([:])

    init(window: TimeInterval = 60, capacity: Int = 10_000) {
        self.window = window
        self.capacity = capacity
    }

    func admit(_ subject: String, now: Date = Date()) -> Admission {
        windows.withLockedValue { windows in
            if let open = windows[subject], now.timeIntervalSince(open.start) < window {
                windows[subject] = (open.start, open.repeated + 1)
                return Admission(record: false, repeated: 0)
            }
            let repeated = windows[subject]?.repeated ?? 0
            if windows.count >= capacity {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < window }
                guard windows.count < capacity else { return Admission(record: true, repeated: repeated) }
            }
            windows[subject] = (now, 0)
            return Admission(record: true, repeated: repeated)
        }
    }

    /// `detail` with the count of unrecorded repeats appended, when there were any.
    static func detail(_ detail: String?, repeated: Int) -> String? {
        guard repeated > 0 else { return detail }
        return (detail.map { $0 + " " } ?? "") + "repeated=\(repeated)"
    }
}
