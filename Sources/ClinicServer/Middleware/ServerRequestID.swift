import Foundation
import Vapor

/// Every request gets an id the server makes (a random UUID): it is what the ledger records,
/// what the log lines carry and what `X-Request-Id` answers. Vapor would take the client's
/// `X-Request-Id` as the request's id, so a client could write any text into every audit event
/// and log line; here a client's id is only logged, as `client-request-id`, and only when it is
/// a UUID. Runs first, so every later line has the server's id.
struct ServerRequestID: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let id = UUID().uuidString.lowercased()
        request.serverRequestID = id
        request.logger[metadataKey: "request-id"] = .string(id)
        if let offered = request.headers.first(name: .xRequestId), let client = UUID(uuidString: offered) {
            request.logger[metadataKey: "client-request-id"] = .string(client.uuidString.lowercased())
        } else {
            request.logger[metadataKey: "client-request-id"] = nil
        }
        return try await next.respond(to: request)
    }
}

extension Request {
    private struct ServerRequestIDKey: StorageKey { typealias Value = String }

    /// The id the server gave this request (`ServerRequestID`); a request that somehow has none
    /// gets one here, never the client's.
    var serverRequestID: String {
        get {
            if let id = storage[ServerRequestIDKey.self] { return id }
            let id = UUID().uuidString.lowercased()
            storage[ServerRequestIDKey.self] = id
            return id
        }
        set { storage[ServerRequestIDKey.self] = newValue }
    }
}
