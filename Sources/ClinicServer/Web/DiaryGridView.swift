import ClinicDomain
import Foundation

/// The diary's time grid as a page draws it (`DiaryGrid`): a table of five-minute rows, an hour
/// label every twelve, a cell per column that is free time (open or outside working hours) or a
/// booking's block spanning its rows, coloured by status with classes.
struct DiaryGridView: Encodable {
    struct Block: Sendable {
        let id, starts, ends, patientId, patientName, type, status: String
    }

    struct Cell: Encodable {
        /// "booking", "open" or "closed".
        let kind: String
        let span: Int
        let id, starts, ends, patientId, patientName, type, status: String?
    }

    struct Row: Encodable {
        /// The hour this row begins ("09:00"), on the first row of each hour.
        let label: String?
        let cells: [Cell]
    }

    let columns: [String]
    let rows: [Row]

    /// One column: its heading, the working periods of its day and its bookings, by minute of
    /// the clinic's day. Cancelled bookings are not drawn; the list beside the grid has them.
    struct Column {
        let heading: String
        let working: [WorkingPeriod]
        let bookings: [(start: Int, end: Int, block: Block)]
    }

    init(_ columns: [Column]) {
        let grid = DiaryGrid<Block>(columns: columns.map { column in
            DiaryGrid<Block>.Column(working: column.working.map { (start: $0.startMinute, end: $0.endMinute) },
                                    bookings: column.bookings.map { (start: $0.start, end: $0.end, booking: $0.block) })
        })
        self.columns = columns.map(\.heading)
        rows = grid.rows.enumerated().map { index, cells in
            let minute = grid.firstMinute + index * DiaryGrid<Block>.rowMinutes
            return Row(label: minute % 60 == 0 ? String(format: "%02d:00", minute / 60) : nil, cells: cells.map { entry in
                switch entry.cell {
                case let .booking(block, rows):
                    return Cell(kind: "booking", span: rows, id: block.id, starts: block.starts, ends: block.ends, patientId: block.patientId,
                                patientName: block.patientName, type: block.type, status: block.status)
                case let .free(working):
                    return Cell(kind: working ? "open" : "closed", span: 1, id: nil, starts: nil, ends: nil, patientId: nil,
                                patientName: nil, type: nil, status: nil)
                }
            })
        }
    }
}
