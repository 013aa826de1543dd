import ClinicDomain
import Foundation
import SQLKit

struct AppointmentTypeRecord: Sendable {
    let id: AppointmentTypeID
    let kind: AppointmentKind
    let active: Bool
}

/// The kinds of appointment a clinic offers. Not personal data, but tenant data all the same:
/// scoped, and changes recorded.
struct AppointmentTypes: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    private static let columns = "id, name, duration_minutes, price_cents, active"

    func list(includeInactive: Bool) async throws -> [AppointmentTypeRecord] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            let filter = includeInactive ? "" : " AND active = 1"
            let rows = try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM appointment_types WHERE clinic_id = \(bind: scope.realm)\(unsafeRaw: filter) ORDER BY name, id
                """).all()
            try await Ledger.append(scope.event("appointmentType.list"), in: tx)
            return try rows.map(Self.record)
        }
    }

    func create(_ kind: AppointmentKind) async throws -> AppointmentTypeRecord {
        let scope = self.scope
        let id = AppointmentTypeID.random()
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                INSERT INTO appointment_types (id, clinic_id, name, duration_minutes, price_cents, active, created_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: kind.name), \(bind: kind.durationMinutes),
                        \(bind: kind.priceCents), \(bind: 1), \(bind: Date().milliseconds))
                """).run()
            try await Ledger.append(scope.event("appointmentType.create", resourceType: "appointmentType", resource: id.rawValue), in: tx)
        }
        return AppointmentTypeRecord(id: id, kind: kind, active: true)
    }

    /// Changes a type (what is left out stays); appointments already booked keep the times they were given.
    func update(_ id: AppointmentTypeID, name: String?, durationMinutes: Int?, priceCents: Int?, active: Bool?) async throws -> AppointmentTypeRecord {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<AppointmentTypeRecord> in
            guard let row = try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM appointment_types WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).first() else {
                try await Ledger.append(scope.event("appointmentType.update", resourceType: "appointmentType", resource: id.rawValue,
                                                    outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let existing = try Self.record(row)
            let kind = try AppointmentKind.validated(name: name ?? existing.kind.name,
                                                     durationMinutes: durationMinutes ?? existing.kind.durationMinutes,
                                                     priceCents: priceCents ?? existing.kind.priceCents)
            let isActive = active ?? existing.active
            try await tx.sql.raw("""
                UPDATE appointment_types SET name = \(bind: kind.name), duration_minutes = \(bind: kind.durationMinutes),
                    price_cents = \(bind: kind.priceCents), active = \(bind: isActive ? 1 : 0)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).run()
            try await Ledger.append(scope.event("appointmentType.update", resourceType: "appointmentType", resource: id.rawValue), in: tx)
            return .done(AppointmentTypeRecord(id: id, kind: kind, active: isActive))
        }.get()
    }

    /// Reads one type inside a booking's transaction.
    static func find(_ id: AppointmentTypeID, clinic: UUID, in tx: ScopedSQL) async throws -> AppointmentTypeRecord? {
        try await tx.sql.raw("""
            SELECT \(unsafeRaw: columns) FROM appointment_types WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)
            """).first().map(record)
    }

    private static func record(_ row: any SQLRow) throws -> AppointmentTypeRecord {
        AppointmentTypeRecord(
            id: AppointmentTypeID(try row.decode(column: "id", as: UUID.self)),
            kind: AppointmentKind(name: try row.decode(column: "name", as: String.self),
                                  durationMinutes: Int(try row.decode(column: "duration_minutes", as: Int64.self)),
                                  priceCents: try row.decode(column: "price_cents", as: Int64?.self).map(Int.init)),
            active: try row.decode(column: "active", as: Int64.self) != 0)
    }
}
