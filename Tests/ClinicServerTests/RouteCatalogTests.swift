import ClinicDomain
import ClinicTestSupport
import Foundation
import Testing
import Vapor
@testable import ClinicServer

@Suite("Route catalogue")
struct RouteCatalogTests {
    // DU-2, DAO-15: every route is checked server-side against a named permission
    @Test("every registered route names the permission it needs")
    func everyRouteNamesAPermission() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let routes = app.app.routes.all
            #expect(routes.count > 10)
            for route in routes {
                #expect(route.userInfo[RouteInfo.permission] is Permission, "\(route.method) \(route.path) names no permission")
            }
        }
    }

    @Test("every route with a clinic in its path needs a clinic permission, never 'anyone'")
    func clinicRoutesAreScoped() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            for route in app.app.routes.all where route.path.contains(where: { $0.description == ":clinicId" }) {
                guard case .clinic = route.userInfo[RouteInfo.permission] as? Permission else {
                    Issue.record("\(route.method) \(route.path) is not clinic-scoped")
                    continue
                }
            }
        }
    }

    @Test("the OpenAPI document describes every API route with its method")
    func openAPIComplete() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.GET, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(response.json["openapi"] as? String == "3.1.0")
            let paths = try #require(response.json["paths"] as? [String: [String: Any]])
            let apiRoutes = app.app.routes.all.filter { $0.path.first?.description == "api" }
            #expect(apiRoutes.count >= 9)
            for route in apiRoutes {
                let path = OpenAPIDocument.openAPIPath(route)
                #expect(paths[path]?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(path) is missing from openapi.json")
            }
        }
    }

    @Test("every list is held to the page its document states: the largest limit answers, one more is refused naming `limit`")
    func pagingAsDocumented() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let document = try await app.send(.GET, "/api/v1/openapi.json")
            let paths = try #require(document.json["paths"] as? [String: [String: Any]])
            var lists = 0
            for (path, operations) in paths.sorted(by: { $0.key < $1.key }) {
                // Lists whose only path parameter is the clinic: they can be asked without other records.
                guard let get = operations["get"] as? [String: Any], path.filter({ $0 == "{" }).count == 1, path.contains("{clinicId}"),
                      let parameters = get["parameters"] as? [[String: Any]],
                      let limit = parameters.first(where: { $0["name"] as? String == "limit" }),
                      let largest = (limit["schema"] as? [String: Any])?["maximum"] as? Int else { continue }
                lists += 1
                let url = path.replacingOccurrences(of: "{clinicId}", with: owner.clinicID.description)
                let hasOffset = parameters.contains { $0["name"] as? String == "offset" }
                let fits = try await app.send(.GET, url + "?limit=\(largest)" + (hasOffset ? "&offset=\(Paging.largestOffset)" : ""), as: owner)
                #expect(fits.status == .ok, "\(path) limit=\(largest) answered \(fits.status)")
                let over = try await app.send(.GET, url + "?limit=\(largest + 1)", as: owner)
                #expect(over.status == .badRequest && over.errorField == "limit", "\(path) limit=\(largest + 1) answered \(over.status)")
                if hasOffset {
                    let far = try await app.send(.GET, url + "?offset=\(Paging.largestOffset + 1)", as: owner)
                    #expect(far.status == .badRequest && far.errorField == "offset", "\(path) answered \(far.status) past the largest offset")
                }
            }
            #expect(lists >= 8, "only \(lists) paged lists found")
        }
    }
}
