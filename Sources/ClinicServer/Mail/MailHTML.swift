/// The HTML part of a mail, made from its plain text and nothing else, so the two parts always
/// say the same thing: every character escaped, paragraphs kept, and the server's own links
/// (words starting with `linkBase`) made clickable; any other address stays text, so a name a
/// member of staff typed can never become a link in a patient's mail. No images, no remote
/// content, no tracking.
enum MailHTML {
    static func page(_ text: String, linkBase: String?) -> String {
        let paragraphs = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .newlines) }.filter { !$0.isEmpty }
        let body = paragraphs.map { paragraph in
            // A line break after each <br>: a long paragraph never makes a line SMTP refuses.
            "<p>" + paragraph.split(separator: "\n", omittingEmptySubsequences: false).map { line(String($0), linkBase: linkBase) }
                .joined(separator: "<br>\n") + "</p>"
        }
        let head = ["<!doctype html>", "<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>",
                    "<body style=\"font-family: -apple-system, 'Segoe UI', Roboto, sans-serif; font-size: 16px; line-height: 1.5; color: #1b1f24; max-width: 36em\">"]
        return (head + body + ["</body></html>"]).joined(separator: "\n")
    }

    /// One line: words that are the server's own addresses become links (a full stop or comma
    /// after one is left outside it), everything else is escaped text.
    private static func line(_ text: String, linkBase: String?) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            guard let linkBase, !linkBase.isEmpty, word.hasPrefix(linkBase.hasSuffix("/") ? linkBase : linkBase + "/") else {
                return escape(String(word))
            }
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
