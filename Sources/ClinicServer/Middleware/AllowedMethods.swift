import Vapor

/// A request whose path names a route but whose method none of that path's routes take is
/// answered 405 with `Allow` (RFC 9110), not 404: the path exists, the method does not.
/// Registered after the routes, innermost, so it sees only the router's own "no route".
struct AllowedMethods: AsyncMiddleware {
    private let routes: [(path: [PathComponent], method: HTTPMethod)]

    init(_ routes: [Route]) {
        self.routes = routes.map { ($0.path, $0.method) }
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let notFound as RouteNotFound {
            let components = request.url.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            let allowed = Set(routes.filter { Self.matches($0.path, components) }.map(\.method.rawValue))
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { throw notFound }
            throw Abort(.methodNotAllowed, headers: ["Allow": allowed.sorted().joined(separator: ", ")])
        }
    }

    static func matches(_ pattern: [PathComponent], _ components: [String]) -> Bool {
        guard pattern.count == components.count else { return false }
        return zip(pattern, components).allSatisfy { part, component in
            switch part {
            case let .constant(constant): return constant == component
            case .parameter: return true
            case .anything, .catchall: return true
            }
        }
    }
}
