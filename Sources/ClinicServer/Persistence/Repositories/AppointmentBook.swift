import ClinicDomain
import Foundation
import Keyring
import SQLKit

struct AppointmentRecord: Sendable {
    let id: AppointmentID
    let patient: PatientID
    let practitioner: UserID
    let type: AppointmentTypeID
    let slot: TimeSlot
    let status: AppointmentStatus
    let reason: String?
    let createdAt: Date
    let updatedAt: Date
}

/// A request to book: who, with whom, what kind, when.
struct AppointmentFilter: Sendable {
    var from: Date?
    var to: Date?
    var practitioner: UserID?
    var patient: PatientID?
    var paging = Paging(limit: PageSizes.diary.standard)
}

/// The clinic's diary. A practitioner's time is claimed under their booking lock, so two
/// overlapping bookings can never both be written, whichever instance or connection they use.
struct AppointmentBook: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "appointments"
    static let columns = "id, patient_id, practitioner_id, type_id, starts_at_ms, ends_at_ms, status, reason, created_at_ms, updated_at_ms"

    func book(_ booking: Booking) async throws -> AppointmentRecord {
        let scope = self.scope, keyring = services.keyring
        let id = AppointmentID.random()
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<AppointmentRecord> in
            try await ClinicReferences.requirePatient(booking.patient, clinic: scope.realm, in: tx)
            try await ClinicReferences.requirePractitioner(booking.practitioner, clinic: scope.realm, in: tx)
            guard let type = try await AppointmentTypes.find(booking.type, clinic: scope.realm, in: tx), type.active else {
                throw ClinicError.invalid("appointmentTypeId", "No active appointment type with this id in this clinic.", code: "unknown_reference")
            }
            let minutes = booking.durationMinutes ?? type.kind.durationMinutes
            let slot = TimeSlot(start: booking.start.milliseconds, end: booking.start.milliseconds + Int64(minutes) * 60_000)
            if let clash = try await Self.claim(slot, of: booking.practitioner, excluding: nil, scope: scope, in: tx) {
                try await Ledger.append(scope.event("appointment.create", resourceType: "appointment", outcome: .failure,
                                                    detail: "slot-taken-by=\(clash)"), in: tx)
                return .refused(Self.slotTaken)
            }
            // Read under the diary lock `claim` took, which a change of hours takes too.
            if let refusal = try await WorkingHours.refusal(Date(milliseconds: slot.start), Date(milliseconds: slot.end),
                                                            practitioner: booking.practitioner, clinic: scope.realm, in: tx) {
                try await Ledger.append(scope.event("appointment.create", resourceType: "appointment", outcome: .failure,
                                                    detail: "outside-hours"), in: tx)
                return .refused(refusal)
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let reason = try booking.reason.map { try keys.seal($0, table: Self.table, column: "reason", row: id.rawValue).bytes }
            let now = Date().milliseconds
            try await tx.sql.raw("""
                INSERT INTO appointments (id, clinic_id, patient_id, practitioner_id, type_id, starts_at_ms, ends_at_ms, status, reason,
                                          created_by, created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: booking.patient.rawValue), \(bind: booking.practitioner.rawValue),
                        \(bind: booking.type.rawValue), \(bind: slot.start), \(bind: slot.end), \(bind: AppointmentStatus.booked.rawValue),
                        \(bind: reason), \(bind: scope.actor.rawValue), \(bind: now), \(bind: now))
                """).run()
            try await DailyFigures.replace(nil, with: DailyFigures.Visit(practitioner: booking.practitioner.rawValue, status: .booked,
                                                                        startMs: slot.start, endMs: slot.end, updatedMs: now),
                                           clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("appointment.create", resourceType: "appointment", resource: id.rawValue,
                                                detail: "patient=\(booking.patient)"), in: tx)
            let record = AppointmentRecord(id: id, patient: booking.patient, practitioner: booking.practitioner, type: booking.type,
                                           slot: slot, status: .booked, reason: booking.reason,
                                           createdAt: Date(milliseconds: now), updatedAt: Date(milliseconds: now))
            try await PatientMessages.queue(PatientMessage.confirmation, about: record, clinic: scope.realm, timeZone: scope.timeZone, keyring: keyring, in: tx)
            return .done(record)
        }.get()
    }

    func find(_ id: AppointmentID) async throws -> AppointmentRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<AppointmentRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx) else {
                try await Ledger.append(scope.event("appointment.read", resourceType: "appointment", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let record = try Self.open(row, keys: try await keyring.keys(for: scope.realm, in: tx))
            try await Ledger.append(scope.event("appointment.read", resourceType: "appointment", resource: id.rawValue,
                                                detail: "patient=\(record.patient)"), in: tx)
            return .done(record)
        }.get()
    }

    func list(_ filter: AppointmentFilter) async throws -> [AppointmentRecord] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx in
            var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM appointments WHERE clinic_id = \(bind: scope.realm)")
            if let from = filter.from {
                query.appendInterpolation(unsafeRaw: " AND ends_at_ms > ")
                query.appendInterpolation(bind: from.milliseconds)
            }
            if let to = filter.to {
                query.appendInterpolation(unsafeRaw: " AND starts_at_ms < ")
                query.appendInterpolation(bind: to.milliseconds)
            }
            if let practitioner = filter.practitioner {
                query.appendInterpolation(unsafeRaw: " AND practitioner_id = ")
                query.appendInterpolation(bind: practitioner.rawValue)
            }
            if let patient = filter.patient {
                query.appendInterpolation(unsafeRaw: " AND patient_id = ")
                query.appendInterpolation(bind: patient.rawValue)
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY starts_at_ms, id LIMIT ")
            query.appendInterpolation(bind: filter.paging.limit)
            query.appendInterpolation(unsafeRaw: " OFFSET ")
            query.appendInterpolation(bind: filter.paging.offset)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let records = try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            try await Ledger.append(scope.event("appointment.list", resourceType: "appointment",
                                                detail: PatientRecordListing.shownPatients(records.map(\.patient))), in: tx)
            return records
        }
    }

    /// Moves a booked appointment to another time and/or practitioner, keeping its length.
    func move(_ id: AppointmentID, to start: Date?, practitioner: UserID?) async throws -> AppointmentRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<AppointmentRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx, forUpdate: true) else {
                try await Ledger.append(scope.event("appointment.move", resourceType: "appointment", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let existing = try Self.open(row, keys: try await keyring.keys(for: scope.realm, in: tx))
            guard existing.status.canMove else {
                throw ClinicError.conflict("invalid_transition", "Only a booked appointment can be moved; this one is \(existing.status.rawValue).")
            }
            let who = practitioner ?? existing.practitioner
            if practitioner != nil { try await ClinicReferences.requirePractitioner(who, clinic: scope.realm, in: tx) }
            let startMs = start?.milliseconds ?? existing.slot.start
            let slot = TimeSlot(start: startMs, end: startMs + (existing.slot.end - existing.slot.start))
            if let clash = try await Self.claim(slot, of: who, excluding: id, scope: scope, in: tx) {
                try await Ledger.append(scope.event("appointment.move", resourceType: "appointment", resource: id.rawValue, outcome: .failure,
                                                    detail: "slot-taken-by=\(clash)"), in: tx)
                return .refused(Self.slotTaken)
            }
            if let refusal = try await WorkingHours.refusal(Date(milliseconds: slot.start), Date(milliseconds: slot.end),
                                                            practitioner: who, clinic: scope.realm, in: tx) {
                try await Ledger.append(scope.event("appointment.move", resourceType: "appointment", resource: id.rawValue, outcome: .failure,
                                                    detail: "outside-hours"), in: tx)
                return .refused(refusal)
            }
            let now = Date().milliseconds
            // A new practitioner is assigned by the mover (case-based access counts who assigned it).
            let assigned: SQLQueryString = who == existing.practitioner ? "" : ", assigned_by = \(bind: scope.actor.rawValue)"
            try await tx.sql.raw("""
                UPDATE appointments SET starts_at_ms = \(bind: slot.start), ends_at_ms = \(bind: slot.end),
                    practitioner_id = \(bind: who.rawValue), updated_at_ms = \(bind: now)
                """ + assigned + """
                 WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).run()
            try await DailyFigures.replace(existing.figured, with: DailyFigures.Visit(practitioner: who.rawValue, status: existing.status,
                                                                                      startMs: slot.start, endMs: slot.end, updatedMs: now),
                                           clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("appointment.move", resourceType: "appointment", resource: id.rawValue,
                                                detail: "patient=\(existing.patient)"), in: tx)
            let record = AppointmentRecord(id: id, patient: existing.patient, practitioner: who, type: existing.type, slot: slot,
                                           status: existing.status, reason: existing.reason, createdAt: existing.createdAt,
                                           updatedAt: Date(milliseconds: now))
            if record.slot != existing.slot || record.practitioner != existing.practitioner {
                // What waits to be sent names the old time: withdrawn; the new time gets its own reminders.
                try await PatientMessages.withdrawQueued(about: id, clinic: scope.realm, reason: "withdrawn: the appointment moved", in: tx)
                try await tx.sql.raw("DELETE FROM appointment_reminders WHERE clinic_id = \(bind: scope.realm) AND appointment_id = \(bind: id.rawValue)").run()
                try await PatientMessages.queue(PatientMessage.change, about: record, clinic: scope.realm, timeZone: scope.timeZone, keyring: keyring, in: tx)
            }
            return .done(record)
        }.get()
    }

    /// Arrived, completed, cancelled, no-show: only the moves the status machine allows.
    func setStatus(_ id: AppointmentID, to status: AppointmentStatus) async throws -> AppointmentRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<AppointmentRecord> in
            guard let row = try await Self.row(id, scope: scope, in: tx, forUpdate: true) else {
                try await Ledger.append(scope.event("appointment.status", resourceType: "appointment", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let existing = try Self.open(row, keys: try await keyring.keys(for: scope.realm, in: tx))
            let next = try existing.status.checkedMove(to: status)
            let now = Date().milliseconds
            try await tx.sql.raw("""
                UPDATE appointments SET status = \(bind: next.rawValue), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).run()
            try await DailyFigures.replace(existing.figured, with: DailyFigures.Visit(practitioner: existing.practitioner.rawValue, status: next,
                                                                                      startMs: existing.slot.start, endMs: existing.slot.end, updatedMs: now),
                                           clinic: scope.realm, in: tx)
            if existing.status.attended || next.attended {
                try await PatientVisits.refresh(patient: existing.patient.rawValue, practitioner: existing.practitioner.rawValue,
                                                clinic: scope.realm, in: tx)
            }
            try await Ledger.append(scope.event("appointment.status", resourceType: "appointment", resource: id.rawValue,
                                                detail: "patient=\(existing.patient) status=\(next.rawValue)"), in: tx)
            let record = AppointmentRecord(id: id, patient: existing.patient, practitioner: existing.practitioner, type: existing.type,
                                           slot: existing.slot, status: next, reason: existing.reason, createdAt: existing.createdAt,
                                           updatedAt: Date(milliseconds: now))
            // Arrival, completion and no-show happen in the clinic, in front of the patient: only
            // a cancellation is news to them.
            if next == .cancelled {
                try await PatientMessages.withdrawQueued(about: id, clinic: scope.realm, reason: "withdrawn: the appointment was cancelled", in: tx)
                try await PatientMessages.queue(PatientMessage.cancellation, about: record, clinic: scope.realm, timeZone: scope.timeZone, keyring: keyring, in: tx)
            }
            return .done(record)
        }.get()
    }

    static let slotTaken = ClinicError.conflict("slot_taken", "The practitioner already has an appointment at this time.", field: "startsAt")

    /// Takes the practitioner's booking lock to the end of the transaction: bookings, moves and
    /// changes of working hours of one practitioner happen one at a time.
    static func lockDiary(of practitioner: UserID, clinic: UUID, in tx: ScopedSQL) async throws {
        try await tx.sql.raw("""
            INSERT INTO booking_locks (clinic_id, practitioner_id, version) VALUES (\(bind: clinic), \(bind: practitioner.rawValue), \(bind: Int64(1)))
            ON CONFLICT (clinic_id, practitioner_id) DO UPDATE SET version = booking_locks.version + 1
            """).run()
    }

    /// Takes the practitioner's booking lock, then looks for an appointment holding any of the
    /// slot; answers the clashing appointment's id, or nil when the time is free. The lock is
    /// held to the end of the transaction, so the insert that follows cannot race another.
    private static func claim(_ slot: TimeSlot, of practitioner: UserID, excluding: AppointmentID?, scope: ClinicScope,
                              in tx: ScopedSQL) async throws -> String? {
        try await lockDiary(of: practitioner, clinic: scope.realm, in: tx)
        let freed = AppointmentStatus.allCases.filter { !$0.holdsTime }.map(\.rawValue)
        var query = SQLQueryString("""
            SELECT id FROM appointments WHERE clinic_id = \(bind: scope.realm) AND practitioner_id = \(bind: practitioner.rawValue)
              AND starts_at_ms < \(bind: slot.end) AND ends_at_ms > \(bind: slot.start) AND status NOT IN (\(binds: freed))
            """)
        if let excluding {
            query.appendInterpolation(unsafeRaw: " AND id <> ")
            query.appendInterpolation(bind: excluding.rawValue)
        }
        query.appendInterpolation(unsafeRaw: " LIMIT 1")
        return try await tx.sql.raw(query).first().map { try $0.decode(column: "id", as: UUID.self).uuidString.lowercased() }
    }

    private static func row(_ id: AppointmentID, scope: ClinicScope, in tx: ScopedSQL, forUpdate: Bool = false) async throws -> (any SQLRow)? {
        let lock = forUpdate && tx.kind == .postgres ? " FOR UPDATE" : ""
        return try await tx.sql.raw("""
            SELECT \(unsafeRaw: columns) FROM appointments WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)\(unsafeRaw: lock)
            """).first()
    }

    static func open(_ row: any SQLRow, keys: RealmKeys) throws -> AppointmentRecord {
        let id = AppointmentID(try row.decode(column: "id", as: UUID.self))
        guard let status = AppointmentStatus(rawValue: try row.decode(column: "status", as: String.self)) else { throw ClinicError.integrityFailure }
        return AppointmentRecord(
            id: id,
            patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
            practitioner: UserID(try row.decode(column: "practitioner_id", as: UUID.self)),
            type: AppointmentTypeID(try row.decode(column: "type_id", as: UUID.self)),
            slot: TimeSlot(start: try row.decode(column: "starts_at_ms", as: Int64.self), end: try row.decode(column: "ends_at_ms", as: Int64.self)),
            status: status,
            reason: try keys.openColumn(row, table: table, column: "reason", id: id.rawValue),
            createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
            updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)))
    }
}
