import ClinicDomain
import Foundation
import Vapor

/// The clinic's day: one day's appointments, a booking form, and status changes.
enum CalendarPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "calendar", permission: (.schedule, .read), use: day)
        clinic.inClinic(.GET, "calendar", "week", permission: (.schedule, .read), use: week)
        clinic.inClinic(.POST, "calendar", "book", permission: (.schedule, .create), use: book)
        clinic.inClinic(.POST, "appointments", ":appointmentId", "status", permission: (.schedule, .update), use: setStatus)
    }

    struct Transition: Encodable { let status: String; let label: String }

    struct Row: Encodable {
        let id, starts, ends, patientId, patientName, practitioner, type, status: String
        let transitions: [Transition]
    }

    struct BookingForm: Content {
        var patientId: String?
        var practitionerId: String?
        var appointmentTypeId: String?
        var startsAt: String?
        var reason: String?
    }

    struct DayContent: Encodable {
        let date, previous, next: String
        let practitionerId: String?
        let rows: [Row]
        let empty: Bool
        let canBook: Bool
        let canChangeStatus: Bool
        let canOpenChart: Bool
        let patients: [Choice]
        let types: [Choice]
        let practitioners: [Choice]
        /// The same people for the filter, marked by the one shown.
        let filterChoices: [Choice]
        let choosePractitioner: Bool
        let form: BookingForm
        let error: String?
        /// The day as a time grid, one column per practitioner.
        let grid: DiaryGridView
    }

    /// A booking as the grid draws it.
    static func block(_ record: AppointmentRecord, clock: PageClock, patientName: String, type: String) -> DiaryGridView.Block {
        DiaryGridView.Block(id: record.id.description, starts: clock.clock(record.slot.start), ends: clock.clock(record.slot.end),
                            patientId: record.patient.description, patientName: patientName, type: type, status: record.status.rawValue)
    }

    /// One grid column: a practitioner's (or a day's) working time and bookings on `day`.
    static func column(_ heading: String, day: Date, week: WorkingWeek?, appointments: [AppointmentRecord], clock: PageClock,
                       block: (AppointmentRecord) -> DiaryGridView.Block) -> DiaryGridView.Column {
        let weekday = clock.workingWeekday(day)
        let drawn = appointments.filter { $0.status != .cancelled }
        return DiaryGridView.Column(
            heading: heading, working: week?.periods.filter { $0.weekday == weekday } ?? [],
            bookings: drawn.map { (start: clock.minute($0.slot.start, onDayStarting: day), end: clock.minute($0.slot.end, onDayStarting: day), block: block($0)) })
    }

    static func path(_ scope: ClinicScope, _ day: Date) -> String { "/clinics/\(scope.clinic)/calendar?date=\(PageClock(scope).day(day))" }

    static func day(_ request: Request, scope: ClinicScope) async throws -> Response {
        let day = try PageClock(scope).startOfDay(try request.queryText("date", maximum: 10))
        let practitioner: UserID? = try request.queryID("practitionerId")
        return try await render(request, scope, day: day, practitioner: practitioner)
    }

    static func render(_ request: Request, _ scope: ClinicScope, day: Date, practitioner: UserID?, form: BookingForm? = nil,
                       error: ClinicError? = nil) async throws -> Response {
        let services = request.services, clock = PageClock(scope)
        var filter = AppointmentFilter(from: day, to: clock.day(after: day), practitioner: practitioner)
        filter.paging = Paging(limit: 500)
        let appointments = try await AppointmentBook(scope: scope, services: services).list(filter)
        let types = try await AppointmentTypes(scope: scope, services: services).list(includeInactive: true)
        let canBook = scope.may(.schedule, .create)
        // The booking form lists the clinic's recent patients; the same list names most of the day's.
        let recent = canBook ? try await PatientRepository(scope: scope, services: services).list(PatientFilter(paging: Paging(limit: 200))) : []
        var names = Dictionary(recent.map { ($0.id, PageFormat.patientName($0)) }, uniquingKeysWith: { first, _ in first })
        if scope.may(.patient, .read) {
            let missing = Set(appointments.map(\.patient)).subtracting(names.keys)
            for (id, record) in try await PatientRepository(scope: scope, services: services).records(of: missing) {
                names[id] = PageFormat.patientName(record)
            }
        }
        // Practitioners by name for everyone who reads the diary: the desk books with them.
        let staff = try await StaffDirectory(scope: scope, services: services).practitioners()
        let staffNames = Dictionary(staff.map { ($0.user, $0.name) }, uniquingKeysWith: { first, _ in first })
        let typeNames = Dictionary(types.map { ($0.id, $0.kind.name) }, uniquingKeysWith: { first, _ in first })
        var form = form ?? BookingForm()
        if form.practitionerId == nil, scope.roles.contains(.practitioner) { form.practitionerId = scope.actor.description }
        let hours = try await WorkingHours(scope: scope, services: services).clinicWeeks()
        let shown = practitioner.map { asked in staff.filter { $0.user == asked } } ?? staff
        let grid = DiaryGridView(shown.map { person in
            column(person.name, day: day, week: hours[person.user], appointments: appointments.filter { $0.practitioner == person.user }, clock: clock) {
                block($0, clock: clock, patientName: names[$0.patient] ?? $0.patient.description, type: typeNames[$0.type] ?? "")
            }
        })
        let rows = appointments.map { record in
            Row(id: record.id.description, starts: clock.clock(record.slot.start), ends: clock.clock(record.slot.end),
                patientId: record.patient.description, patientName: names[record.patient] ?? record.patient.description,
                practitioner: staffNames[record.practitioner] ?? record.practitioner.description,
                type: typeNames[record.type] ?? "", status: record.status.rawValue.replacingOccurrences(of: "_", with: " "),
                transitions: AppointmentStatus.allCases.filter(record.status.next.contains).map(transition))
        }
        let content = DayContent(
            date: clock.day(day), previous: clock.day(clock.day(after: day, days: -1)), next: clock.day(clock.day(after: day)),
            practitionerId: practitioner?.description, rows: rows, empty: rows.isEmpty, canBook: canBook,
            canChangeStatus: scope.may(.schedule, .update), canOpenChart: scope.may(.patient, .read),
            patients: recent.map { Choice(value: $0.id.description, label: PageFormat.patientName($0), selected: $0.id.description == form.patientId) },
            types: types.filter(\.active).map { Choice(value: $0.id.description, label: "\($0.kind.name) (\($0.kind.durationMinutes) min)",
                                                      selected: $0.id.description == form.appointmentTypeId) },
            practitioners: staff.map { Choice(value: $0.user.description, label: $0.name, selected: $0.user.description == form.practitionerId) },
            filterChoices: staff.map { Choice(value: $0.user.description, label: $0.name, selected: $0.user == practitioner) },
            choosePractitioner: !staff.isEmpty, form: form, error: error?.message, grid: grid)
        return try await request.render("calendar", Layout("Calendar", request: request, scope: scope), content,
                                        status: error?.pageStatus ?? .ok)
    }

    static func transition(_ status: AppointmentStatus) -> Transition {
        let labels: [AppointmentStatus: String] = [.arrived: "Arrived", .completed: "Completed", .cancelled: "Cancel", .noShow: "No show"]
        return Transition(status: status.rawValue, label: labels[status] ?? status.rawValue)
    }

    static func book(_ request: Request, scope: ClinicScope) async throws -> Response {
        let form = try request.content.decode(BookingForm.self)
        let clock = PageClock(scope)
        let start = try? clock.instant(form.startsAt, field: "startsAt")
        let day = try clock.startOfDay(clock.day(start ?? Date()))
        do {
            let booking = try Booking(patientId: form.patientId, practitionerId: form.practitionerId, appointmentTypeId: form.appointmentTypeId,
                                      start: { try clock.instant(form.startsAt, field: "startsAt") }, durationMinutes: nil, reason: form.reason)
            _ = try await AppointmentBook(scope: scope, services: request.services).book(booking)
            return request.redirect(to: path(scope, day))
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, day: day, practitioner: nil, form: form, error: error)
        }
    }

    struct StatusForm: Content { let status: String?; let date: String? }

    static func setStatus(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: AppointmentID = try request.pathID("appointmentId")
        let form = try request.content.decode(StatusForm.self)
        let clock = PageClock(scope)
        let today = try clock.startOfDay(nil)
        let day = (try? clock.startOfDay(form.date)) ?? today
        do {
            _ = try await AppointmentBook(scope: scope, services: request.services).setStatus(id, to: try AppointmentStatus.parse(form.status))
            return request.redirect(to: path(scope, day))
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, day: day, practitioner: nil, error: error)
        }
    }

    // MARK: The week

    struct WeekRow: Encodable { let starts, ends, patientId, patientName, practitioner, type, status: String }
    struct WeekDay: Encodable { let date, heading: String; let rows: [WeekRow] }

    struct WeekContent: Encodable {
        let date, previous, next: String
        let practitionerId: String?
        let days: [WeekDay]
        let filterChoices: [Choice]
        let canOpenChart: Bool
        /// One practitioner's week as a time grid, a column per day; nil for the whole clinic.
        let grid: DiaryGridView?
    }

    /// Monday to Sunday of the week holding `date`, one practitioner's or the clinic's: for
    /// seeing the shape of the week; booking and status changes stay on the day's page.
    static func week(_ request: Request, scope: ClinicScope) async throws -> Response {
        let services = request.services, clock = PageClock(scope)
        let monday = clock.startOfWeek(try clock.startOfDay(try request.queryText("date", maximum: 10)))
        let practitioner: UserID? = try request.queryID("practitionerId")
        var filter = AppointmentFilter(from: monday, to: clock.day(after: monday, days: 7), practitioner: practitioner)
        filter.paging = Paging(limit: 500)
        let appointments = try await AppointmentBook(scope: scope, services: services).list(filter)
        let types = Dictionary(try await AppointmentTypes(scope: scope, services: services).list(includeInactive: true).map { ($0.id, $0.kind.name) },
                               uniquingKeysWith: { first, _ in first })
        let names = try await PatientRepository(scope: scope, services: services).records(of: Set(appointments.map(\.patient)))
            .mapValues(PageFormat.patientName)
        let staff = try await StaffDirectory(scope: scope, services: services).practitioners()
        let staffNames = Dictionary(staff.map { ($0.user, $0.name) }, uniquingKeysWith: { first, _ in first })
        let days = (0..<7).map { offset -> WeekDay in
            let start = clock.day(after: monday, days: offset), end = clock.day(after: start)
            let rows = appointments.filter { $0.slot.start >= start.milliseconds && $0.slot.start < end.milliseconds }.map { record in
                WeekRow(starts: clock.clock(record.slot.start), ends: clock.clock(record.slot.end), patientId: record.patient.description,
                        patientName: names[record.patient] ?? record.patient.description,
                        practitioner: staffNames[record.practitioner] ?? record.practitioner.description, type: types[record.type] ?? "",
                        status: record.status.rawValue.replacingOccurrences(of: "_", with: " "))
            }
            return WeekDay(date: clock.day(start), heading: clock.weekday(start), rows: rows)
        }
        // One practitioner's week fits a grid of seven columns; the clinic's week stays a list per day.
        var grid: DiaryGridView?
        if let practitioner {
            let week = try await WorkingHours(scope: scope, services: services).clinicWeeks()[practitioner]
            grid = DiaryGridView((0..<7).map { offset in
                let start = clock.day(after: monday, days: offset), end = clock.day(after: start)
                let those = appointments.filter { $0.slot.start >= start.milliseconds && $0.slot.start < end.milliseconds }
                return column(clock.weekday(start), day: start, week: week, appointments: those, clock: clock) {
                    block($0, clock: clock, patientName: names[$0.patient] ?? $0.patient.description, type: types[$0.type] ?? "")
                }
            })
        }
        let content = WeekContent(
            date: clock.day(monday), previous: clock.day(clock.day(after: monday, days: -7)), next: clock.day(clock.day(after: monday, days: 7)),
            practitionerId: practitioner?.description, days: days,
            filterChoices: staff.map { Choice(value: $0.user.description, label: $0.name, selected: $0.user == practitioner) },
            canOpenChart: scope.may(.patient, .read), grid: grid)
        return try await request.render("calendar-week", Layout("Week", request: request, scope: scope), content)
    }
}
