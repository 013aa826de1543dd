import Foundation

/// Where mail goes, from `CLINICKEEP_SMTP_URL`: `smtp://[user:password@]host[:port]` (upgraded
/// with STARTTLS, the certificate verified; in the clear only to a relay on this machine that
/// takes no credentials) or `smtps://...` (TLS from the first byte). `CLINICKEEP_SMTP_CA_FILE`
/// names a PEM bundle to trust instead of the system's (a private relay, a test server).
struct SMTPServer: Sendable {
    let host: String
    let port: Int
    let implicitTLS: Bool
    let username: String?
    let password: String?
    var trustedCAFile: String?

    /// Whether the session may stay in the clear when the server offers no STARTTLS: only to a
    /// relay on this machine, and never with credentials (they would cross in the clear).
    var mayStayPlain: Bool { !implicitTLS && username == nil && ServerSettings.isLoopback(host) }

    struct InvalidURL: Error {}

    init(url text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme),
              let host = url.host, !host.isEmpty else { throw InvalidURL() }
        self.host = host
        self.implicitTLS = scheme == "smtps"
        self.port = url.port ?? (implicitTLS ? 465 : 25)
        self.username = url.user?.removingPercentEncoding
        self.password = url.password?.removingPercentEncoding
    }
}
