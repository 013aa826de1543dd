import Foundation

/// Where mail goes, from `CLINICKEEP_SMTP_URL`: `smtp://[user:password@]host[:port]` (plain,
/// for a relay on the same machine or network) or `smtps://...` (TLS from the first byte).
struct SMTPServer: Sendable {
    let host: String
    let port: Int
    let implicitTLS: Bool
    let username: String?
    let password: String?

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
