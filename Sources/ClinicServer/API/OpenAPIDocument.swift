import Vapor

/// `GET /api/v1/openapi.json`, built from the routes themselves: a route registered with a
/// description appears, with its method, path parameters, query, body and answers.
enum OpenAPIDocument {
    static func register(_ api: any RoutesBuilder) {
        let doc = APIDoc(summary: "This document", tag: "meta", answers: [.init(status: 200, description: "OpenAPI 3.1 document.")])
        api.anyone(.GET, "openapi.json", doc: doc) { request -> Response in
            let response = Response(status: .ok)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            response.body = .init(data: try encoder.encode(build(routes: request.application.routes.all)))
            response.headers.contentType = .json
            return response
        }
    }

    /// A route's answers, and those every route with a body may give: too large (413) and not
    /// the declared media type (415).
    static func answers(_ doc: APIDoc) -> [APIDoc.Answer] {
        guard doc.body != nil else { return doc.answers }
        let implied: [APIDoc.Answer] = [
            .init(status: 413, description: "The body is larger than this route takes.", schema: OpenAPIDocs.ref("Error")),
            .init(status: 415, description: "The body is not of the declared media type.", schema: OpenAPIDocs.ref("Error")),
        ]
        return doc.answers + implied.filter { answer in !doc.answers.contains { $0.status == answer.status } }
    }

    static func openAPIPath(_ route: Route) -> String {
        "/" + route.path.map { component -> String in
            if case let .parameter(name) = component { return "{\(name)}" }
            return component.description
        }.joined(separator: "/")
    }

    static func build(routes: [Route]) -> JSONValue {
        var paths: [(String, [(String, JSONValue)])] = []
        for route in routes {
            guard let doc = route.userInfo[RouteInfo.apiDoc] as? APIDoc else { continue }
            let path = openAPIPath(route)
            var parameters: [JSONValue] = route.path.compactMap { component in
                guard case let .parameter(name) = component else { return nil }
                return ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string", "format": "uuid"]]
            }
            parameters += doc.query.map { ["name": .string($0.name), "in": "query", "required": false,
                                           "description": .string($0.description), "schema": $0.schema] }
            var operation: [(String, JSONValue)] = [
                ("operationId", .string(route.method.rawValue.lowercased() + path.replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "").replacingOccurrences(of: ".", with: "_"))),
                ("summary", .string(doc.summary)),
                ("tags", [.string(doc.tag)]),
                ("parameters", .array(parameters)),
            ]
            if let body = doc.body {
                operation.append(("requestBody", ["required": true, "content": .object([(doc.bodyMediaType, ["schema": body] as JSONValue)])]))
            }
            operation.append(("responses", .object(answers(doc).map { answer in
                var value: [(String, JSONValue)] = [("description", .string(answer.description))]
                if let schema = answer.schema {
                    let alternatives = answer.alsoAs.map { ($0, ["schema": ["type": "string"]] as JSONValue) }
                    value.append(("content", .object([(answer.mediaType, ["schema": schema] as JSONValue)] + alternatives)))
                }
                return (String(answer.status), .object(value))
            })))
            if let permission = route.userInfo[RouteInfo.permission] {
                operation.append(("x-permission", .string(String(describing: permission))))
            }
            if let index = paths.firstIndex(where: { $0.0 == path }) {
                paths[index].1.append((route.method.rawValue.lowercased(), .object(operation)))
            } else {
                paths.append((path, [(route.method.rawValue.lowercased(), .object(operation))]))
            }
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "ClinicKeep API", "version": "1"],
            "paths": .object(paths.map { ($0.0, .object($0.1)) }),
            "components": [
                "schemas": OpenAPIDocs.allSchemas,
                "securitySchemes": [
                    "sessionCookie": ["type": "apiKey", "in": "cookie", "name": .string(SessionStore.cookieName)],
                    "csrfToken": ["type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                                  "description": "Required with the cookie on POST, PATCH, PUT and DELETE."],
                    "apiToken": ["type": "http", "scheme": "bearer",
                                 "description": "An integration's API token, on the routes of the clinic it was issued for; no CSRF token."],
                ],
            ],
            "security": [["sessionCookie": [], "csrfToken": []], ["apiToken": []], [:]],
        ]
    }
}
