import Foundation
import Testing

/// Secure development in CI (PRX-10, DC-13; security review round 2, part C): a static check of
/// the project's own sources, run with every test run. It fails on
/// - SQL built by plain string interpolation: inside a literal given to `raw(` or
///   `SQLQueryString(`, every `\(...)` must go through SQLKit's explicit forms (`bind:` and
///   `binds:` for values; `ident:`, `literal:`, `unsafeRaw:` for the statement's own text);
/// - `unsafeRaw:` with anything but a constant: a string literal, a choice between literals, a
///   static member or a number, or one of the `reviewed` expressions below, each with why it
///   cannot carry input (a new one is a reviewed change to this file);
/// - a log call whose code (not its message text) names a personal field.
@Suite("Source policy")
struct SourcePolicyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `unsafeRaw:` arguments that are not literals, by file, each built only from constants in
    /// code: a lock clause (`" FOR UPDATE"` or nothing), a column list or table name from a fixed
    /// list of the schema (`SealedTables`, a repository's `columns`), a filter chosen between two
    /// literals, a trigger's name, the server role's quoted name (from its own URL, at migrate).
    static let reviewed: [String: Set<String>] = [
        "AppointmentBook.swift": ["columns", "lock"],
        "AppointmentTypes.swift": ["filter", "columns"],
        "AuditRetention.swift": ["trigger.name"],
        "ClinicDeletion.swift": ["table.name", "table"],
        "ConsultationRecords.swift": ["columns", "lock"],
        "ContactBook.swift": ["columns", "lock"],
        "CreateAuditCheckpoints.swift": ["name", "sql.kind == .postgres ? \" ON \" + table : \"\""],
        "CreateAuditRetention.swift": ["sql.kind == .postgres ? \" ON \" + trigger.table : \"\"", "trigger.name"],
        "EmailIndexNormalisation.swift": ["table"],
        "EnableRowLevelSecurity.swift": ["quoted"],
        "InvoiceRecords.swift": ["columns", "lock"],
        "KeyRotation.swift": ["selected", "\" ORDER BY id LIMIT \\(Self.batchSize)\"", "table.name", "column", "notSealed", "filter"],
        "LedgerBenchmark.swift": ["quoted"],
        "OwnerSQL.swift": ["trigger.name", "trigger.table"],
        "PatientRecordListing.swift": ["columns", "table", "filter"],
        "PatientRepository.swift": ["lock", "table", "columns", "Self.columns", "indexes.count == 1 ? \" AND \\(column) = \" : \" AND \\(column) IN (\""],
        "PrescriptionRecords.swift": ["lock"],
        "ProductCatalogue.swift": ["filter", "columns", "lock"],
        "SecurityReportCommand.swift": ["notSealed", "table.name", "table", "column"],
        "StaffDirectory.swift": ["lock"],
        "WorkingHours.swift": ["lock"],
    ]

    static let sqlForms: Set<String> = ["bind", "binds", "unsafeRaw", "literal", "literals", "ident", "idents"]

    static let personal = ["email", "phone", "givenName", "familyName", "birthDate", "medicareNumber", "address", "password",
                           "newPassword", "currentPassword", "token", "inviteToken", "secret", "notes", "reason", "userAgent"]

    struct Finding: CustomStringConvertible {
        let file: String
        let line: Int
        let what: String
        var description: String { "\(file):\(line): \(what)" }
    }

    static func sources() throws -> [(name: String, path: String, text: String)] {
        let base = root.appendingPathComponent("Sources").path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        return try walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().map {
            (URL(fileURLWithPath: $0).lastPathComponent, $0, try String(contentsOfFile: base + "/" + $0, encoding: .utf8))
        }
    }

    /// The interpolations of the string literal starting at `start` (a `"` or `"""`), with the
    /// offset just past the literal.
    static func interpolations(in text: [Character], from start: Int) -> (parts: [String], end: Int) {
        var index = start
        let triple = index + 2 < text.count && text[index] == "\"" && text[index + 1] == "\"" && text[index + 2] == "\""
        index += triple ? 3 : 1
        var parts: [String] = []
        while index < text.count {
            let character = text[index]
            if character == "\\", index + 1 < text.count {
                if text[index + 1] == "(" {
                    var depth = 1, cursor = index + 2, inner = ""
                    var quoted = false
                    while cursor < text.count, depth > 0 {
                        let c = text[cursor]
                        if c == "\"" { quoted.toggle() }
                        if !quoted { if c == "(" { depth += 1 } else if c == ")" { depth -= 1 } }
                        if depth > 0 { inner.append(c) }
                        cursor += 1
                    }
                    parts.append(inner)
                    index = cursor
                    continue
                }
                index += 2
                continue
            }
            if triple, character == "\"", index + 2 < text.count, text[index + 1] == "\"", text[index + 2] == "\"" { return (parts, index + 3) }
            if !triple, character == "\"" || character == "\n" { return (parts, index + 1) }
            index += 1
        }
        return (parts, index)
    }

    static func lineNumber(_ text: [Character], _ offset: Int) -> Int { text[..<min(offset, text.count)].filter { $0 == "\n" }.count + 1 }

    static func isConstant(_ expression: String) -> Bool {
        let patterns = [
            #"^"[^"\\]*"$"#,                                   // a literal
            #"^[^"]+\?\s*"[^"\\]*"\s*:\s*"[^"\\]*"$"#,         // a choice between literals
            #"^(t|sql\.types|Self|[A-Z][A-Za-z]*)\.[A-Za-z0-9_.]+$"#, // a static member or a schema type name
            #"^String\([A-Za-z.]+\)$"#,                        // a number in the statement's text
        ]
        return patterns.contains { expression.range(of: $0, options: .regularExpression) != nil }
    }

    static func sqlFindings() throws -> [Finding] {
        var findings: [Finding] = []
        for (name, path, source) in try sources() {
            let text = Array(source)
            let string = source as NSString
            for opener in [".raw(", "SQLQueryString("] {
                var search = NSRange(location: 0, length: string.length)
                while true {
                    let found = string.range(of: opener, options: [], range: search)
                    guard found.location != NSNotFound else { break }
                    let after = found.location + found.length
                    search = NSRange(location: after, length: string.length - after)
                    // The literal right after the opener; a variable (`raw(sql)`) was built by one already checked.
                    var cursor = string.substring(to: after).count
                    while cursor < text.count, text[cursor] == " " { cursor += 1 }
                    guard cursor < text.count, text[cursor] == "\"" else { continue }
                    for part in interpolations(in: text, from: cursor).parts {
                        let label = part.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                        guard sqlForms.contains(label) else {
                            findings.append(Finding(file: path, line: lineNumber(text, cursor), what: "plain interpolation into SQL: \\(\(part))"))
                            continue
                        }
                        if label == "unsafeRaw" { findings += unsafeRaw(part, file: name, path: path, line: lineNumber(text, cursor)) }
                    }
                }
            }
            // `appendInterpolation(unsafeRaw: ...)` outside a literal.
            for match in source.matches(of: /appendInterpolation\(unsafeRaw: ([^\n]*)\)\s*$/.anchorsMatchLineEndings()) {
                let line = source[..<match.range.lowerBound].filter { $0 == "\n" }.count + 1
                findings += unsafeRaw("unsafeRaw: " + match.output.1, file: name, path: path, line: line)
            }
        }
        return findings
    }

    static func unsafeRaw(_ part: String, file: String, path: String, line: Int) -> [Finding] {
        let expression = String(part.drop(while: { $0 != ":" }).dropFirst()).trimmingCharacters(in: .whitespaces)
        guard !isConstant(expression), !(reviewed[file]?.contains(expression) ?? false) else { return [] }
        return [Finding(file: path, line: line, what: "unsafeRaw with an expression not known to be constant: \(expression)")]
    }

    static func logFindings() throws -> [Finding] {
        var findings: [Finding] = []
        let call = /logger\.(trace|debug|info|notice|warning|error|critical)\(/
        for (_, path, source) in try sources() {
            let text = Array(source)
            for match in source.matches(of: call) {
                let start = source.distance(from: source.startIndex, to: match.range.upperBound)
                // The call's code with its string literals' text left out (interpolations kept).
                var code = "", depth = 1, cursor = start
                while cursor < text.count, depth > 0 {
                    let c = text[cursor]
                    if c == "\"" {
                        let (parts, end) = interpolations(in: text, from: cursor)
                        code += " " + parts.joined(separator: " ") + " "
                        cursor = end
                        continue
                    }
                    if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
                    code.append(c)
                    cursor += 1
                }
                let words = Set(code.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" }).map(String.init))
                for field in personal where words.contains(field) {
                    findings.append(Finding(file: path, line: lineNumber(text, start), what: "a log call names the personal field `\(field)`"))
                }
            }
        }
        return findings
    }

    @Test("SQL text is never built by plain interpolation, and unsafeRaw takes only constants")
    func sqlIsParameterised() throws {
        #expect(try Self.sources().count > 100, "the sources were not found at \(Self.root.path)")
        let findings = try Self.sqlFindings()
        #expect(findings.isEmpty, "\(findings.map(\.description).joined(separator: "\n"))")
    }

    @Test("no log call names a personal field")
    func logsNameNoPersonalField() throws {
        let findings = try Self.logFindings()
        #expect(findings.isEmpty, "\(findings.map(\.description).joined(separator: "\n"))")
    }

    @Test("the checks catch what they are for")
    func checksBite() {
        let plain = Array(#"sql.raw("SELECT * FROM patients WHERE id = \(id) AND x = \(bind: y)")"#)
        let parts = Self.interpolations(in: plain, from: plain.firstIndex(of: "\"")!).parts
        #expect(parts == ["id", "bind: y"])
        #expect(!Self.isConstant("request.query"))
        #expect(Self.isConstant("\"FOR UPDATE\""))
        #expect(Self.isConstant("lock && tx.kind == .postgres ? \"FOR UPDATE\" : \"\""))
        #expect(Self.isConstant("Ledger.entryColumns"))
    }
}
