import Crypto
import Foundation
import Vapor

/// The k-anonymity range lookup (the "Pwned Passwords" protocol): only the first five hex
/// characters of the password's SHA-1 leave the server; the service answers every suffix it
/// knows under that prefix, and the match is made here. SHA-1 is the protocol's index, not a
/// protection of the password.
struct BreachedPasswordRange: Sendable {
    let baseURL: String
    let client: any Client
    let logger: Logger

    enum Verdict: Sendable { case breached, notFound, unavailable }

    func check(_ password: String) async -> Verdict {
        let digest = Insecure.SHA1.hash(data: Data(password.utf8)).map { String(format: "%02X", $0) }.joined()
        let prefix = String(digest.prefix(5)), suffix = String(digest.dropFirst(5))
        do {
            let response = try await client.get(URI(string: "\(baseURL)/\(prefix)")) { request in
                request.headers.replaceOrAdd(name: "Add-Padding", value: "true")
                request.timeout = .seconds(5)
            }
            guard response.status == .ok, let body = response.body.map({ String(buffer: $0) }) else {
                logger.warning("breached-password range service answered \(response.status.code); password accepted on the shipped list alone")
                return .unavailable
            }
            for line in body.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: ":")
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).uppercased() == suffix else { continue }
                // Padding entries carry a count of zero.
                return (Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0) > 0 ? .breached : .notFound
            }
            return .notFound
        } catch {
            logger.warning("breached-password range service unreachable; password accepted on the shipped list alone",
                           metadata: ["error_type": .string(String(reflecting: type(of: error)))])
            return .unavailable
        }
    }
}
