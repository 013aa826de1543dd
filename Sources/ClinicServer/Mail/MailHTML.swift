/// The HTML part of a mail, made from its plain text and nothing else, so the two parts always
/// say the same thing: every character escaped, paragraphs kept, and the server's own links
/// (`https://…` words) made clickable. No images, no remote content, no tracking.
enum MailHTML {
    static func page(_ text: String) -> String {
        let paragraphs = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .newlines) }.filter { !$0.isEmpty }
        let body = paragraphs.map { paragraph in
            "<p>" + paragraph.split(separator: "\n", omittingEmptySubsequences: false).map { line(String($0)) }.joined(separator: "<br>") + "</p>"
        }
        let head = ["<!doctype html>", "<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>",
                    "<body style=\"font-family: -apple-system, 'Segoe UI', Roboto, sans-serif; font-size: 16px; line-height: 1.5; color: #1b1f24; max-width: 36em\">"]
        return (head + body + ["</body></html>"]).joined(separator: "\n")
    }

    /// One line: words that are web addresses become links (a full stop or comma after one is
    /// left outside it), everything else is escaped text.
    private static func line(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            guard word.hasPrefix("https://") || word.hasPrefix("http://") else { return escape(String(word)) }
            var address = Substring(word), trailing = ""
            while let last = address.last, ".,;:)".contains(last) { trailing = String(last) + trailing; address = address.dropLast() }
            let shown = escape(String(address))
            return "<a href=\"\(shown)\">\(shown)</a>" + escape(trailing)
        }.joined(separator: " ")
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
