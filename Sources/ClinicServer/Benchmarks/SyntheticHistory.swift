import ClinicDomain
import Foundation
import SQLKit
import Vapor

/// Years of a clinic's diary and billing in minutes, for W7 of `bench/run` (the practice's
/// figures over 100,000 appointments and 20,000 invoices): `clinickeep demo` books through the
/// API's repositories, one transaction and ledger event each, which would take hours at that size.
///
/// The rows are written straight, in batches, with the values the figures read (statuses, times,
/// practitioners, types, totals, payments) and invoice lines sealed under the clinic's key as the
/// repository seals them. Nothing is added to the ledger: this is a benchmark's fixture, never a
/// clinic's history, and no server command reaches it.
public enum SyntheticHistory {
    public struct Report: Sendable, Codable {
        public let appointments: Int
        public let invoices: Int
        public let payments: Int
        public let seconds: Double
        /// The period the rows fall in, as a KPI request names it (`to` not included).
        public let from: String
        public let to: String
    }

    static let batch = 500

    /// Fills `clinic` (made by `clinickeep demo`: its patients, practitioners and types) with
    /// `appointments` spread over the 365 days before today and `invoices` for attended ones,
    /// issued when the visit ended, four in five paid.
    public static func fill(settings: ServerSettings, clinic: UUID, appointments: Int, invoices: Int,
                            progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let app = try await Application.make(.production)
        do {
            try await ClinicKeepApp.configure(app, settings: settings, migrate: false)
            let report = try await write(services: app.clinicServices, clinic: clinic, appointments: appointments,
                                         invoices: invoices, progress: progress)
            try await app.asyncShutdown()
            return report
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    private struct Visit {
        let id: UUID
        let patient: UUID
        let practitioner: UUID
        let type: UUID
        let start: Int64
        let end: Int64
        let status: AppointmentStatus
        /// When the row last changed: for a cancellation, how early it came.
        let updated: Int64
    }

    private static func write(services: ClinicServices, clinic: UUID, appointments count: Int, invoices invoiceCount: Int,
                              progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let started = Date()
        let store = services.store
        let (patients, practitioners, owner, types) = try await store.transaction(realm: clinic) { tx in
            let patients = try await tx.sql.raw("SELECT id FROM patients WHERE clinic_id = \(bind: clinic)").all()
                .map { try $0.decode(column: "id", as: UUID.self) }
            let members = try await tx.sql.raw("SELECT user_id, roles FROM memberships WHERE clinic_id = \(bind: clinic)").all()
                .map { (try $0.decode(column: "user_id", as: UUID.self), try $0.decode(column: "roles", as: String.self).split(separator: ",")) }
            let types = try await tx.sql.raw("SELECT id, name, price_cents FROM appointment_types WHERE clinic_id = \(bind: clinic)").all()
                .map { (id: try $0.decode(column: "id", as: UUID.self), name: try $0.decode(column: "name", as: String.self),
                        cents: try $0.decode(column: "price_cents", as: Int?.self) ?? 0) }
            return (patients, members.filter { $0.1.contains("practitioner") }.map(\.0), members.first { $0.1.contains("owner") }?.0, types)
        }
        guard !patients.isEmpty, !practitioners.isEmpty, !types.isEmpty, let owner else {
            throw CommandFailure("the clinic needs patients, practitioners and appointment types first (clinickeep demo makes them)")
        }
        // Whole days in UTC (the demo clinic's zone), 365 of them ending with yesterday.
        let today = Int64(Date().timeIntervalSince1970 / 86_400) * 86_400_000
        let first = today - 365 * 86_400_000
        // Out of 100: 80 completed, 3 arrived, 5 not come, 8 cancelled early and 4 late.
        func outcome(start: Int64) -> (AppointmentStatus, updated: Int64) {
            let end = start + 1_800_000
            switch Int.random(in: 0..<100) {
            case 0..<80: return (.completed, end)
            case 80..<83: return (.arrived, start)
            case 83..<88: return (.noShow, end)
            case 88..<96: return (.cancelled, start - 3 * 86_400_000)
            default: return (.cancelled, start - 2 * 3_600_000)
            }
        }
        var visits: [Visit] = []
        visits.reserveCapacity(count)
        for _ in 0..<count {
            let start = first + Int64.random(in: 0..<365) * 86_400_000 + Int64(Int.random(in: 16..<36)) * 1_800_000
            let (status, updated) = outcome(start: start)
            visits.append(Visit(id: UUID(), patient: patients.randomElement()!, practitioner: practitioners.randomElement()!,
                                type: types.randomElement()!.id, start: start, end: start + 1_800_000, status: status, updated: updated))
        }
        var written = 0
        for chunk in stride(from: 0, to: visits.count, by: batch) {
            let rows = visits[chunk..<min(chunk + batch, visits.count)]
            try await store.transaction(realm: clinic) { tx in
                var insert = tx.sql.insert(into: "appointments")
                    .columns("id", "clinic_id", "patient_id", "practitioner_id", "type_id", "starts_at_ms", "ends_at_ms", "status",
                             "created_by", "created_at_ms", "updated_at_ms")
                for visit in rows {
                    insert = insert.values(SQLBind(visit.id), SQLBind(clinic), SQLBind(visit.patient), SQLBind(visit.practitioner),
                                           SQLBind(visit.type), SQLBind(visit.start), SQLBind(visit.end), SQLBind(visit.status.rawValue),
                                           SQLBind(owner), SQLBind(visit.start - 7 * 86_400_000), SQLBind(visit.updated))
                }
                try await insert.run()
            }
            written += rows.count
            if written % 20_000 == 0 || written == visits.count { progress("appointments \(written)/\(visits.count)") }
        }

        let billable = visits.filter { $0.status == .completed }.prefix(invoiceCount)
        guard billable.count == invoiceCount else {
            throw CommandFailure("only \(billable.count) attended appointments to bill; ask for more appointments or fewer invoices")
        }
        let priceOf = Dictionary(uniqueKeysWithValues: types.map { ($0.id, $0) })
        var number = try await store.transaction(realm: clinic) { tx in
            Int(try await tx.sql.raw("SELECT MAX(number) AS highest FROM invoices WHERE clinic_id = \(bind: clinic)")
                .first()?.decode(column: "highest", as: Int64?.self) ?? 0)
        }
        var payments = 0, billed = 0
        let billableList = Array(billable)
        for chunk in stride(from: 0, to: billableList.count, by: batch) {
            let rows = billableList[chunk..<min(chunk + batch, billableList.count)]
            let paid = try await store.transaction(realm: clinic) { [number] tx in
                let keys = try await services.keyring.keys(for: clinic, in: tx)
                var invoiceInsert = tx.sql.insert(into: "invoices")
                    .columns("id", "clinic_id", "patient_id", "practitioner_id", "appointment_id", "number", "status", "lines",
                             "total_cents", "gst_cents", "paid_cents", "issued_at_ms", "created_at_ms", "updated_at_ms")
                var paymentInsert = tx.sql.insert(into: "payments")
                    .columns("id", "clinic_id", "invoice_id", "amount_cents", "method", "recorded_by", "received_at_ms")
                var paid = 0
                for (offset, visit) in rows.enumerated() {
                    let id = InvoiceID.random()
                    let type = priceOf[visit.type]!
                    let lines = [InvoiceLine(description: type.name, quantity: 1, unitCents: type.cents, gstApplies: false,
                                             appointmentTypeId: type.id.uuidString.lowercased())]
                    let totals = InvoiceTotals(lines)
                    let settled = Int.random(in: 0..<5) > 0 && totals.totalCents > 0
                    invoiceInsert = invoiceInsert.values(
                        SQLBind(id.rawValue), SQLBind(clinic), SQLBind(visit.patient), SQLBind(visit.practitioner), SQLBind(visit.id),
                        SQLBind(Int64(number + offset + 1)), SQLBind((settled ? InvoiceStatus.paid : InvoiceStatus.issued).rawValue),
                        SQLBind(try InvoiceRecords.sealLines(lines, id: id, keys: keys)), SQLBind(totals.totalCents), SQLBind(totals.gstCents),
                        SQLBind(settled ? totals.totalCents : 0), SQLBind(visit.end), SQLBind(visit.end),
                        // A paid invoice last changed when the payment that settled it came in.
                        SQLBind(settled ? visit.end + 600_000 : visit.end))
                    if settled {
                        paymentInsert = paymentInsert.values(SQLBind(UUID()), SQLBind(clinic), SQLBind(id.rawValue), SQLBind(totals.totalCents),
                                                             SQLBind("eftpos"), SQLBind(owner), SQLBind(visit.end + 600_000))
                        paid += 1
                    }
                }
                try await invoiceInsert.run()
                if paid > 0 { try await paymentInsert.run() }
                return paid
            }
            number += rows.count
            payments += paid
            billed += rows.count
            if billed % 5_000 == 0 || billed == billableList.count { progress("invoices \(billed)/\(billableList.count)") }
        }
        // Written around the repositories, so the daily sums are cut from the rows at the end.
        try await store.transaction(realm: clinic) { tx in try await DailyFigures.rebuild(clinic: clinic, in: tx.sql) }
        progress("daily figures rebuilt")
        // A bulk load is followed by statistics, as autovacuum would gather them on a live
        // PostgreSQL within a minute: without them the planner takes 100,000 fresh rows for two.
        if store.kind == .postgres {
            try await store.ownerTransaction(realm: clinic) { tx in
                try await tx.sql.raw("ANALYZE appointments, invoices, payments, patients, appointment_days, revenue_days, patient_visits").run()
            }
            progress("statistics gathered")
        }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return Report(appointments: visits.count, invoices: billed, payments: payments, seconds: Date().timeIntervalSince(started),
                      from: day.string(from: Date(milliseconds: first)), to: day.string(from: Date(milliseconds: today)))
    }
}
