import Vapor

/// One log line per request: method, the route's template (never the concrete path or query,
/// which carry ids and search terms), status and duration.
struct RequestLogMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next.respond(to: request)
        let elapsed = ContinuousClock.now - start
        let template = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "(no route)"
        request.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "route": .string(template),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible(Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)),
        ])
        return response
    }
}
