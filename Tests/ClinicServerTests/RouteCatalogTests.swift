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
}
