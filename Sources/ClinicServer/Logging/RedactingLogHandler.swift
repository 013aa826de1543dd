import Foundation
import Logging

/// A log handler that never lets a secret or a person's data through: metadata under
/// sensitive keys is replaced, and message text is scrubbed of e-mail addresses, phone-like
/// digit runs, bearer tokens, long key-like strings and query strings.
///
/// Code should not log such things in the first place; this is the net under that rule.
public struct RedactingLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = RedactingLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        log(level: event.level, message: event.message, metadata: event.metadata, source: event.source, file: event.file,
            function: event.function, line: event.line)
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var merged = metadata
        if let explicit { merged.merge(explicit) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\(Self.redact(key: key, value: value))"
        }.joined(separator: " ")
        // A format style, not a new ISO8601DateFormatter per line: building that formatter (ICU
        // underneath) was 30% of the server's CPU on /healthz under load (bench/run, issue 9).
        let timestamp = Date().formatted(Self.timestampStyle)
        write("\(timestamp) \(level) \(label): \(Self.scrub(message.description))\(fields.isEmpty ? "" : " " + fields)")
    }

    static let sensitiveKeyFragments = ["password", "secret", "token", "key", "cookie", "authorization", "email", "phone",
                                        "name", "birth", "address", "medicare", "code", "csrf", "session"]
    /// Keys that carry only ids and fixed words and so may be shown as they are.
    static let safeKeys: Set<String> = ["request-id", "request_id", "client-request-id", "status", "method", "route", "duration_ms", "clinic", "chain",
                                        "sequence", "outcome", "action", "error_type", "version", "path_template"]

    static func redact(key: String, value: Logger.MetadataValue) -> String {
        let lower = key.lowercased()
        if safeKeys.contains(lower) {
            // An id we generated is shown whole, so a line can be matched to its X-Request-Id;
            // the number pattern used to mangle it (and cost a regular-expression pass).
            let text = value.description
            return UUID(uuidString: text) != nil ? text : scrub(text)
        }
        if sensitiveKeyFragments.contains(where: { lower.contains($0) }) { return "[redacted]" }
        return scrub(value.description)
    }

    static let timestampStyle = Date.ISO8601FormatStyle()

    private static let patterns: [(NSRegularExpression, String)] = [
        (try! NSRegularExpression(pattern: #"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"#), "Bearer [redacted]"),
        (try! NSRegularExpression(pattern: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#), "[email]"),
        (try! NSRegularExpression(pattern: #"\?[^\s"]*"#), "?[query]"),
        (try! NSRegularExpression(pattern: #"\+?\d[\d \-().]{6,}\d"#), "[number]"),
        (try! NSRegularExpression(pattern: #"[A-Za-z0-9_\-+/=]{24,}"#), "[long-value]"),
    ]

    /// Replaces anything in free text that looks like personal data or a secret.
    public static func scrub(_ text: String) -> String {
        // Every pattern needs an "@", a "?" or at least eight characters; most metadata values
        // (methods, statuses, durations) have none, and skip the regular expressions.
        if text.utf8.count < 8, !text.utf8.contains(UInt8(ascii: "@")), !text.utf8.contains(UInt8(ascii: "?")) {
            return text
        }
        var result = text
        for (pattern, replacement) in patterns {
            let range = NSRange(result.startIndex..., in: result)
            result = pattern.stringByReplacingMatches(in: result, range: range, withTemplate: replacement)
        }
        return result
    }
}
