import Vapor

/// A CSV download (RFC 4180): every field quoted when it must be, and a field that a
/// spreadsheet would run as a formula prefixed with an apostrophe (OWASP "CSV injection").
struct CSVTable {
    let header: [String]
    var rows: [[String?]] = []

    init(header: [String]) { self.header = header }

    mutating func append(_ row: [String?]) { rows.append(row) }

    var text: String {
        ([header] + rows.map { $0.map { $0 ?? "" } }).map { $0.map(Self.field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { ",\"\r\n".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func response(filename: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.add(name: .contentDisposition, value: "attachment; filename=\"\(filename)\"")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}
