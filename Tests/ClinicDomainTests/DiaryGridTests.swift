import ClinicDomain
import Testing

/// The diary's time grid: blocks as tall as their bookings, working time shaded, no cell twice.
@Suite("Diary grid")
struct DiaryGridTests {
    typealias Grid = DiaryGrid<String>

    /// Each column's cells down the grid, as a block's name and span or "w" / "-" for free time.
    static func picture(_ grid: Grid, column: Int) -> [String] {
        grid.rows.compactMap { row in
            row.first { $0.column == column }.map {
                switch $0.cell {
                case let .booking(name, rows): return "\(name):\(rows)"
                case let .free(working): return working ? "w" : "-"
                }
            }
        }
    }

    @Test("a booking is one block spanning its five-minute rows; working time is told from the rest")
    func blocksAndHours() {
        let column = Grid.Column(working: [(start: 9 * 60, end: 9 * 60 + 30)], bookings: [(start: 9 * 60 + 10, end: 9 * 60 + 25, booking: "A")])
        let grid = Grid(columns: [column])
        #expect(grid.firstMinute == 9 * 60)
        #expect(grid.rows.count == 12)
        #expect(Self.picture(grid, column: 0) == ["w", "w", "A:3", "w"] + Array(repeating: "-", count: 6))
    }

    @Test("columns are laid out independently and the grid widens to the latest booking's hour")
    func columnsAndRange() {
        let early = Grid.Column(working: [(start: 8 * 60, end: 12 * 60)], bookings: [])
        let late = Grid.Column(working: [], bookings: [(start: 13 * 60 + 55, end: 14 * 60 + 20, booking: "B")])
        let grid = Grid(columns: [early, late])
        #expect(grid.firstMinute == 8 * 60 && grid.rows.count == 7 * 12)
        let second = Self.picture(grid, column: 1)
        #expect(second.filter { $0 == "B:5" }.count == 1 && second.count == 7 * 12 - 4)
        #expect(!second.contains("-"), "no hours set: open all day")
        #expect(Self.picture(grid, column: 0).filter { $0 == "w" }.count == 4 * 12)
    }

    @Test("no booking is dropped: a block running into the next stops there; two in one row stack")
    func overlapping() {
        let column = Grid.Column(working: [], bookings: [(start: 600, end: 660, booking: "long"), (start: 620, end: 640, booking: "under"),
                                                         (start: 660, end: 670, booking: "after")])
        #expect(Self.picture(Grid(columns: [column]), column: 0) == ["long:4", "under:4", "w", "w", "w", "w", "after:2"] + Array(repeating: "w", count: 10))
        // Back to back off the five-minute marks (09:03-09:33, 09:33-10:03), and two in one row.
        let offGrid = Grid.Column(working: [], bookings: [(start: 543, end: 573, booking: "a"), (start: 573, end: 603, booking: "b"),
                                                          (start: 606, end: 616, booking: "c"), (start: 608, end: 618, booking: "d")])
        let picture = Self.picture(Grid(columns: [offGrid]), column: 0)
        #expect(["a", "b", "c", "d"].allSatisfy { name in picture.contains { $0.hasPrefix(name + ":") } }, "\(picture)")
        #expect(picture.prefix(4) == ["a:6", "b:7", "c:1", "d:2"], "\(picture)")
    }

    @Test("an empty day shows 08:00 to 18:00")
    func empty() {
        let grid = Grid(columns: [Grid.Column(working: [], bookings: [])])
        #expect(grid.firstMinute == 8 * 60 && grid.rows.count == 10 * 12)
    }
}
