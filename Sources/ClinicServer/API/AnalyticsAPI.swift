import ClinicDomain
import Foundation
import Vapor

/// `GET /api/v1/clinics/{clinicId}/analytics/export`: the clinic's visits, pseudonymised and
/// banded (`AnalyticsExport`), as a CSV file for a spreadsheet or a BI tool. Owners only.
enum AnalyticsAPI {
    static func register(_ api: any RoutesBuilder) {
        api.grouped("clinics", ":clinicId", "analytics", "export").inClinic(.GET, permission: (.analytics, .read), doc: doc, use: export)
    }

    static func export(_ request: Request, scope: ClinicScope) async throws -> Response {
        let result = try await AnalyticsExport(clinic: scope.clinic, context: scope.context, services: request.services)
            .rows(k: request.services.settings.analyticsK)
        let response = Response(status: .ok, body: .init(string: try ReportCSV.text(result.rows)))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"visits-pseudonymised.csv\"")
        response.headers.replaceOrAdd(name: "X-Patients-Left-Out", value: "\(result.leftOut)")
        return response
    }

    static let doc = APIDoc(
        summary: "The clinic's visits for analytics: pseudonyms made for this export alone, age in 5-year bands, sex, region, month, type, outcome and invoiced band; a description fewer than k patients share is widened or left out (owners)",
        tag: "clinics",
        answers: [.init(status: 200, description: "CSV, one row per visit: patient, ageBand, sex, region, month, appointmentType, practitioner, outcome, invoiced. X-Patients-Left-Out counts the patients whose visits were left out.",
                        schema: ["type": "string"], mediaType: "text/csv")] + OpenAPIDocs.error)
}
