import ClinicDomain
import Foundation
import Vapor

/// `GET /api/v1/clinics/{clinicId}/exports/{kind}.csv`: one kind of the clinic's records as a
/// CSV file a spreadsheet or another system opens (`ExportKind`), streamed a page at a time so
/// a clinic of 100,000 patients costs a page of memory. Each kind is its own route naming the
/// permission it needs (`ExportKind.permission`). `bom=true` starts the file with a UTF-8 byte order mark,
/// which spreadsheets need to read accented names correctly.
enum ExportsAPI {
    static func register(_ api: any RoutesBuilder) {
        let exports = api.grouped("clinics", ":clinicId", "exports")
        for kind in ExportKind.allCases {
            exports.inClinic(.GET, .constant("\(kind.rawValue).csv"), permission: kind.permission, doc: doc(kind)) { request, scope in
                try await export(kind, request, scope: scope)
            }
        }
    }

    static func export(_ kind: ExportKind, _ request: Request, scope: ClinicScope) async throws -> Response {
        let bom: Bool
        switch request.query[String.self, at: "bom"] {
        case nil, "false": bom = false
        case "true": bom = true
        default: throw ClinicError.invalid("bom", "Say bom=true for a byte order mark (spreadsheets), or leave it out.")
        }
        let export = ClinicExport(scope: scope, services: request.services)
        // Recorded before the first byte leaves: an export that is never written down never starts.
        let rows = try await export.begin(kind)
        let logger = request.logger
        let body = Response.Body(managedAsyncStream: { writer in
            var head = ByteBuffer()
            if bom { head.writeBytes([0xEF, 0xBB, 0xBF]) }
            head.writeString(try ReportCSV.text([kind.header]))
            try await writer.writeBuffer(head)
            var after: UUID?
            repeat {
                let page: ClinicExport.Page
                do {
                    page = try await export.page(kind, after: after)
                } catch {
                    // The status is already sent: the file is cut short, and the log says why without its rows.
                    logger.error("export stopped", metadata: ["kind": "\(kind.rawValue)", "error": "\(type(of: error))"])
                    throw error
                }
                if !page.rows.isEmpty { try await writer.writeBuffer(ByteBuffer(string: try ReportCSV.text(page.rows))) }
                after = page.next
            } while after != nil
        })
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(kind.rawValue).csv\"")
        headers.replaceOrAdd(name: "X-Export-Rows", value: "\(rows)")
        return Response(status: .ok, headers: headers, body: body)
    }

    static func doc(_ kind: ExportKind) -> APIDoc {
        APIDoc(summary: "The clinic's \(kind.rawValue) as CSV (needs \(kind.permission.0.rawValue).\(kind.permission.1.rawValue)), streamed; recorded in the audit chain with its row count",
               tag: "clinics",
               query: [.init(name: "bom", description: "true: start with a UTF-8 byte order mark, for spreadsheets", schema: ["type": "boolean"])],
               answers: [.init(status: 200, description: "CSV: " + kind.header.joined(separator: ", ") + ". X-Export-Rows counts the rows when the export began.",
                               schema: ["type": "string"], mediaType: "text/csv")] + OpenAPIDocs.error)
    }
}
