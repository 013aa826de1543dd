import Foundation
import Testing
@testable import ClinicServer

/// Headers a strict relay accepts: non-ASCII names and subjects as RFC 2047 encoded words.
@Suite("Mail headers")
struct MailHeaderTests {
    private func header(_ name: String, in message: String) -> String {
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        // Unfold: a line starting with a space continues the one before.
        let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ")
        return unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) } ?? ""
    }

    private func decoded(_ words: String) -> String {
        words.split(separator: " ").map { word -> String in
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return String(word) }
            let base64 = word.dropFirst(10).dropLast(2)
            return String(decoding: Data(base64Encoded: String(base64)) ?? Data(), as: UTF8.self)
        }.joined()
    }

    @Test("plain ASCII is left as it is; a display name is quoted")
    func asciiStays() {
        let message = SMTPClient.message(from: "Harbour Clinic <clinic@example.org>", to: "pat@example.org", subject: "Your appointment", body: "Hi")
        #expect(header("Subject", in: message) == "Your appointment")
        #expect(header("From", in: message) == "\"Harbour Clinic\" <clinic@example.org>")
        #expect(header("To", in: message) == "pat@example.org")
    }

    @Test("a non-ASCII subject and sender name travel as encoded words on short lines, every character whole")
    func nonASCIIEncoded() {
        let subject = "Votre rendez-vous à la Clinique Hélène Dupré-Éluard de Saint-Étienne est confirmé"
        let message = SMTPClient.message(from: "Clinique Hélène <clinic@example.org>", to: "pat@example.org", subject: subject, body: "Bonjour")
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.unicodeScalars.allSatisfy { $0.isASCII }, "raw UTF-8 left in a header")
        #expect(head.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
        #expect(decoded(header("Subject", in: message)) == subject)
        let from = header("From", in: message)
        #expect(from.hasSuffix(" <clinic@example.org>"))
        #expect(decoded(String(from.dropLast(" <clinic@example.org>".count))) == "Clinique Hélène")
    }

    @Test("a line break in a name still never starts a header")
    func noInjection() {
        let message = SMTPClient.message(from: "Clinic\r\nBcc: all@example.org <c@example.org>", to: "p@example.org", subject: "Hi\r\nBcc: x@example.org", body: "")
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        #expect(!head.components(separatedBy: "\r\n").contains { $0.hasPrefix("Bcc:") })
    }
}

/// The two parts of a mail: the plain text as written, and the same words as escaped HTML.
@Suite("Mail body parts")
struct MailBodyTests {
    private func part(_ type: String, of message: String) -> String? {
        let boundary = message.components(separatedBy: "boundary=\"")[1].components(separatedBy: "\"")[0]
        return message.components(separatedBy: "--" + boundary).first { $0.contains("Content-Type: \(type);") }
            .map { $0.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    @Test("a mail carries its text and the same text as HTML, the server's own links clickable")
    func twoParts() throws {
        let body = "Open this link to choose a new password:\nhttps://clinic.example/reset?token=a_b&x=1.\n\nIt works once."
        let message = SMTPClient.message(from: "c@example.org", to: "p@example.org", subject: "Reset", body: body,
                                         linkBase: "https://clinic.example")
        #expect(message.contains("Content-Type: multipart/alternative;\r\n boundary=\""))
        let text = try #require(part("text/plain", of: message))
        #expect(text.contains("https://clinic.example/reset?token=a_b&x=1.\r\n\r\nIt works once."))
        let html = try #require(part("text/html", of: message))
        #expect(html.contains("<a href=\"https://clinic.example/reset?token=a_b&amp;x=1\">https://clinic.example/reset?token=a_b&amp;x=1</a>."))
        #expect(html.contains("<p>It works once.</p>"))
    }

    @Test("an address that is not the server's stays text, and a quote in one of the server's is escaped in the link")
    func onlyOwnLinks() throws {
        let body = "With: Dr Smith https://phish.example/login\nhttps://clinic.example/x\"onmouseover=\"alert(1)"
        let message = SMTPClient.message(from: "c@example.org", to: "p@example.org", subject: "Booked", body: body,
                                         linkBase: "https://clinic.example")
        let html = try #require(part("text/html", of: message))
        #expect(html.contains("Dr Smith https://phish.example/login<br>") && !html.contains("href=\"https://phish"))
        #expect(html.contains("<a href=\"https://clinic.example/x&quot;onmouseover=&quot;alert(1\">"))
        #expect(!html.contains("\"onmouseover"))
    }

    @Test("a grapheme longer than an encoded word holds is split between its scalars, never left empty")
    func longGrapheme() {
        let name = "Z" + String(repeating: "\u{0301}", count: 30) + " Clinic"
        let message = SMTPClient.message(from: "\(name) <c@example.org>", to: "p@example.org", subject: "Hi", body: "")
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        #expect(!head.contains("=?UTF-8?B??="))
        #expect(head.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
    }

    @Test("a name with markup in it is text in the HTML part, never markup")
    func escaped() throws {
        let body = "With: Dr <img src=x onerror=alert(1)> \"Smith\" & Jones\nWhere: javascript:alert(1)"
        let message = SMTPClient.message(from: "c@example.org", to: "p@example.org", subject: "Booked", body: body)
        let html = try #require(part("text/html", of: message))
        #expect(html.contains("Dr &lt;img src=x onerror=alert(1)&gt; &quot;Smith&quot; &amp; Jones"))
        #expect(!html.contains("<img") && !html.contains("href=\"javascript"))
    }

    @Test("a line that starts with a full stop is stuffed in both parts, so it never ends the DATA")
    func dotStuffed() {
        let message = SMTPClient.message(from: "c@example.org", to: "p@example.org", subject: "S", body: "one\n.\ntwo")
        #expect(!message.components(separatedBy: "\r\n").contains("."))
    }
}
