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

enum RouteInfo {
    static let permission = "clinickeep.permission"
    static let apiDoc = "clinickeep.apiDoc"
}
