import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Hands one message to an SMTP server (RFC 5321): EHLO, STARTTLS (RFC 3207) and EHLO again,
/// optional AUTH PLAIN, MAIL, RCPT, DATA, QUIT. Replies are read line by line; anything but the
/// expected code is a failure that the outbox retries later. TLS always verifies the server's
/// certificate and name. Written here because no SMTP package is among those this project may
/// use; it speaks only what sending one message needs.
struct SMTPClient: Sendable {
    let server: SMTPServer
    let from: String
    /// The server's own address: only links under it are made clickable in the HTML part.
    var linkBase: String? = nil
    let timeout: TimeAmount = .seconds(30)

    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// The server refused the recipient for good (a 5xx reply to RCPT: no such mailbox);
        /// trying again would only be refused again.
        var permanent = false
    }

    /// The TLS context every connection uses: the system's trust roots, or the configured bundle.
    static func tlsContext(_ server: SMTPServer) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let file = server.trustedCAFile { configuration.trustRoots = .file(file) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The name the certificate must carry; an address literal is checked against the
    /// certificate's IP addresses instead (SNI takes no address).
    static func serverHostname(_ host: String) -> String? {
        host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
    }

    /// `senderName` replaces the display name of the configured sender (a clinic's own name);
    /// the address stays the server's.
    func send(to recipient: String, subject: String, body: String, senderName: String? = nil, headers extra: [String] = []) async throws {
        let server = self.server
        let context = try Self.tlsContext(server)
        let tls = server.implicitTLS ? context : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: server.host, port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: Self.serverHostname(server.host)))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // The deadline holds for the whole exchange, a read that never returns included: past
        // it the connection is closed, which ends the read with an error.
        let underlying = channel.channel, limit = timeout
        let watchdog = Task {
            do { try await Task.sleep(for: .nanoseconds(limit.nanoseconds)) } catch { return }
            underlying.close(promise: nil)
        }
        defer { watchdog.cancel() }
        let message = Self.message(from: senderName.map { "\"\($0)\" <\(Self.address(in: from))>" } ?? from, to: recipient,
                                   subject: subject, body: body, headers: extra, linkBase: linkBase)
        let sender = Self.address(in: from)
        let deadline = NIODeadline.now() + timeout
        try await channel.executeThenClose { inbound, outbound in
            var replies = SMTPReplies(inbound.makeAsyncIterator(), deadline: deadline)
            func command(_ line: String, expect: Int) async throws {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                try await replies.expect(expect, after: line.split(separator: " ").first.map(String.init) ?? "")
            }
            try await replies.expect(220, after: "greeting")
            let extensions = try await replies.ehlo(outbound)
            if !server.implicitTLS {
                if extensions.contains("STARTTLS") {
                    try await command("STARTTLS", expect: 220)
                    // Nothing may have come in the clear after the 220: it would be taken as if sent under TLS.
                    guard replies.isDrained else { throw Failure(description: "SMTP: data after STARTTLS's reply") }
                    let host = Self.serverHostname(server.host)
                    try await channel.channel.eventLoop.submit {
                        try channel.channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: host), position: .first)
                    }.get()
                    // RFC 3207: everything learnt before TLS is forgotten; the session starts again.
                    _ = try await replies.ehlo(outbound)
                } else if !server.mayStayPlain {
                    throw Failure(description: "SMTP: the server offers no STARTTLS; mail goes in the clear only to a relay on this machine without credentials")
                }
            }
            if let user = server.username {
                let credentials = Data("\u{0}\(user)\u{0}\(server.password ?? "")".utf8).base64EncodedString()
                try await outbound.write(ByteBuffer(string: "AUTH PLAIN \(credentials)\r\n"))
                try await replies.expect(235, after: "AUTH")
            }
            try await command("MAIL FROM:<\(sender)>", expect: 250)
            try await command("RCPT TO:<\(Self.address(in: recipient))>", expect: 250)
            try await command("DATA", expect: 354)
            try await outbound.write(ByteBuffer(string: message + "\r\n.\r\n"))
            try await replies.expect(250, after: "message")
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    /// The bare address of `Name <address>`, or the text itself.
    static func address(in text: String) -> String {
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            return String(text[text.index(after: open)..<close])
        }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// RFC 5322 headers and a UTF-8 body in two parts (RFC 2046 multipart/alternative): the
    /// plain text, then the same text as HTML for mail programs that prefer it. Lines end CRLF
    /// and are dot-stuffed for DATA.
    /// `extra` headers are the server's own (`List-Unsubscribe`); line breaks are taken out of
    /// them like any other.
    static func message(from: String, to: String, subject: String, body: String, headers extra: [String] = [], date: Date = Date(),
                        linkBase: String? = nil) -> String {
        // By scalar: "\r\n" is one Swift Character, so a Character filter lets the pair through.
        func header(_ value: String) -> String {
            String(String.UnicodeScalarView(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }))
        }
        // Random, so no line of a body can be taken for it.
        let boundary = "clinickeep-" + UUID().uuidString.lowercased()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let headers = [
            "From: \(Self.mailbox(header(from)))", "To: \(Self.mailbox(header(to)))", "Subject: \(Self.encodedWords(header(subject)))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@clinickeep>", "MIME-Version: 1.0",
            "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"",
        ] + extra.map(header)
        func lines(_ text: String) -> [String] {
            text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        let parts = [
            "--" + boundary, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
        ] + lines(body) + [
            "--" + boundary, "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
        ] + lines(MailHTML.page(body, linkBase: linkBase)) + ["--" + boundary + "--"]
        return (headers + [""] + parts.map { $0.hasPrefix(".") ? "." + $0 : $0 }).joined(separator: "\r\n")
    }
}

extension SMTPClient {
    /// Header text as RFC 2047 encoded words when it is not plain ASCII (a clinic named
    /// "Clinique Hélène"): UTF-8, base64, at most 36 bytes (a 60-character word) each, so that "Subject: " and a word fit in 78 characters,, folded
    /// onto lines of their own, never splitting a character. ASCII text is left as it is.
    static func encodedWords(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy({ $0.isASCII }) else { return text }
        var words: [String] = [], chunk = Data()
        // By scalar: one grapheme can be longer than a word holds, and RFC 2047 asks only that
        // no character's octets be split, which a UTF-8 scalar boundary never does.
        for scalar in text.unicodeScalars {
            let bytes = Data(String(scalar).utf8)
            if chunk.count + bytes.count > 36 {
                words.append("=?UTF-8?B?" + chunk.base64EncodedString() + "?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + chunk.base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Name <address>` with the name encoded when it needs to be (quoted when plain), or the
    /// address alone.
    static func mailbox(_ text: String) -> String {
        guard let open = text.lastIndex(of: "<") else { return text }
        let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let address = "<" + Self.address(in: text) + ">"
        if name.isEmpty { return address }
        if name.unicodeScalars.allSatisfy({ $0.isASCII }) { return "\"" + name.filter { $0 != "\"" && $0 != "\\" } + "\" " + address }
        return encodedWords(name) + " " + address
    }
}

/// Reads SMTP replies: lines `NNN-text` continue a reply, `NNN text` ends it.
struct SMTPReplies {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending = ""
    private let deadline: NIODeadline

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, deadline: NIODeadline) {
        self.iterator = iterator
        self.deadline = deadline
    }

    /// True when nothing past the last reply has arrived.
    var isDrained: Bool { pending.isEmpty }

    /// Sends EHLO and answers the extensions the server lists (upper case, first word of each line).
    mutating func ehlo(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Set<String> {
        try await outbound.write(ByteBuffer(string: "EHLO clinickeep\r\n"))
        var extensions: Set<String> = []
        while true {
            let line = try await nextLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPClient.Failure(description: "SMTP: malformed reply") }
            guard code == 250 else { throw SMTPClient.Failure(description: "SMTP EHLO: expected 250, got \(code)") }
            let text = line.dropFirst(4)
            if let word = text.split(separator: " ").first { extensions.insert(word.uppercased()) }
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return extensions }
        }
    }

    mutating func expect(_ code: Int, after step: String) async throws {
        let got = try await nextReplyCode()
        guard got == code else {
            // Only a refused recipient is the message's own fault; any other refusal (AUTH, DATA)
            // is the relay's or ours and may pass.
            throw SMTPClient.Failure(description: "SMTP \(step): expected \(code), got \(got)", permanent: step == "RCPT" && (500...599).contains(got))
        }
    }

    private mutating func nextReplyCode() async throws -> Int {
        while true {
            let line = try await nextLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPClient.Failure(description: "SMTP: malformed reply") }
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return code }
        }
    }

    private mutating func nextLine() async throws -> String {
        while true {
            if let end = pending.range(of: "\r\n") ?? pending.range(of: "\n") {
                let line = String(pending[..<end.lowerBound])
                pending.removeSubrange(..<end.upperBound)
                return line
            }
            guard NIODeadline.now() < deadline else { throw SMTPClient.Failure(description: "SMTP: timed out") }
            guard pending.utf8.count < 64 * 1024, var buffer = try await iterator.next() else {
                throw SMTPClient.Failure(description: "SMTP: connection closed")
            }
            pending += buffer.readString(length: buffer.readableBytes) ?? ""
        }
    }
}
