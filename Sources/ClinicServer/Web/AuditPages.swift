import AuditLedger
import ClinicDomain
import Foundation
import Vapor

/// The questions of a breach assessment, for owners and admins: who accessed this patient,
/// what did this person touch between two days, and which addresses failed to sign in as
/// the clinic's members. Each answer also downloads as CSV from the API.
enum AuditPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "audit", permission: (.auditLog, .read), use: show)
    }

    struct Row: Encodable {
        let sequence, time, actor, action, resource, outcome, address, detail: String
    }

    struct FailureRow: Encodable {
        let address, failures, accounts, last: String
    }

    struct AuditContent: Encodable {
        let patientId, userId, from, to: String
        let rows: [Row]
        let empty: Bool
        let failures: [FailureRow]
        let noFailures: Bool
        let eventsCSV, failuresCSV: String
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let patient: PatientID? = try request.queryID("patientId")
        let user: UserID? = try request.queryID("userId")
        let fromText = try request.queryText("from", maximum: 10) ?? ""
        let toText = try request.queryText("to", maximum: 10) ?? ""
        var query = AuditQuery()
        let clock = PageClock(scope)
        query.resource = patient?.rawValue
        query.actor = user?.rawValue
        query.newestFirst = true
        query.from = fromText.isEmpty ? nil : try clock.startOfDay(fromText)
        // Up to the end of the day named.
        query.to = toText.isEmpty ? nil : clock.day(after: try clock.startOfDay(toText)).addingTimeInterval(-0.001)
        if let from = query.from, let to = query.to, from > to { throw ClinicError.invalid("to", "The last day comes before the first.") }
        let questions = AuditQueries(scope: scope, services: request.services)
        let entries = try await questions.events(query)
        let failures = try await questions.signInFailures(from: query.from, to: query.to)
        // Staff by name where the reader may see the staff list (owners and admins may), id beside it.
        let staff = scope.may(.staff, .read) ? try await StaffDirectory(scope: scope, services: request.services).list().members : []
        let names = Dictionary(staff.map { ($0.user.rawValue, $0.name) }, uniquingKeysWith: { first, _ in first })
        let rows = entries.map { entry in
            Row(sequence: String(entry.sequence), time: clock.time(entry.event.occurredAt),
                actor: entry.event.actor.map { actor in
                    let id = actor.uuidString.lowercased()
                    return names[actor].map { "\($0) (\(id))" } ?? id
                } ?? "system", action: entry.event.action,
                resource: [entry.event.resourceType, entry.event.resource?.uuidString.lowercased()].compactMap { $0 }.joined(separator: " "),
                outcome: entry.event.outcome.rawValue, address: entry.event.address ?? "", detail: entry.event.detail ?? "")
        }
        var filters = URLComponents()
        filters.queryItems = [("patientId", patient?.description), ("userId", user?.description),
                              ("from", query.from.map(Timestamp.string)), ("to", query.to.map(Timestamp.string))]
            .compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } } + [URLQueryItem(name: "format", value: "csv")]
        let api = "/api/v1/clinics/\(scope.clinic)/audit"
        let content = AuditContent(
            patientId: patient?.description ?? "", userId: user?.description ?? "", from: fromText, to: toText,
            rows: rows, empty: rows.isEmpty,
            failures: failures.map { FailureRow(address: $0.address, failures: String($0.failures), accounts: String($0.accounts),
                                                last: clock.time($0.lastAt)) },
            noFailures: failures.isEmpty,
            eventsCSV: api + "?" + (filters.percentEncodedQuery ?? "format=csv"),
            failuresCSV: api + "/sign-in-failures?" + (filters.percentEncodedQuery ?? "format=csv"))
        return try await request.render("audit", Layout("Audit", request: request, scope: scope), content)
    }
}
