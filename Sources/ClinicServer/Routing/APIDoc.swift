import ClinicDomain

/// How one API route is described in the OpenAPI document; kept on the route itself, so the
/// document cannot drift from what is registered.
struct APIDoc: Sendable {
    struct Query: Sendable {
        let name: String
        let description: String
        var schema: JSONValue = ["type": "string"]
    }

    struct Answer: Sendable {
        let status: Int
        let description: String
        var schema: JSONValue?
        var mediaType = "application/json"
        /// Further media types the same answer may come as (CSV on request, a file as its kind).
        var alsoAs: [String] = []
    }

    let summary: String
    let tag: String
    var query: [Query] = []
    var body: JSONValue?
    var bodyMediaType = "application/json"
    var answers: [Answer]
}

extension APIDoc {
    /// `limit` and `offset` as a list pages (`Paging`), with the sizes the request is held to.
    static func paging(_ sizes: PageSizes) -> [Query] {
        [limit(sizes),
         Query(name: "offset", description: "Skip this many first (0-\(Paging.largestOffset), default 0)",
               schema: ["type": "integer", "minimum": 0, "maximum": .number(Paging.largestOffset)])]
    }

    static func limit(_ sizes: PageSizes) -> Query {
        Query(name: "limit", description: "At most this many (1-\(sizes.largest), default \(sizes.standard))",
              schema: ["type": "integer", "minimum": 1, "maximum": .number(sizes.largest), "default": .number(sizes.standard)])
    }
}

enum RouteInfo {
    static let permission = "clinickeep.permission"
    static let apiDoc = "clinickeep.apiDoc"
}
