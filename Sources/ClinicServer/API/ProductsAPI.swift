import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/products`: what the clinic sells, its prices, GST and stock.
/// Products are retired (`active: false`), never removed: invoices name them.
enum ProductsAPI {
    static func register(_ api: any RoutesBuilder) {
        let products = api.grouped("clinics", ":clinicId", "products")
        products.inClinic(.GET, permission: (.catalogue, .read), doc: CatalogueDocs.listProducts, use: list)
        products.inClinic(.POST, permission: (.catalogue, .create), doc: CatalogueDocs.createProduct, use: create)
        products.inClinic(.GET, ":productId", permission: (.catalogue, .read), doc: CatalogueDocs.readProduct, use: read)
        products.inClinic(.PATCH, ":productId", permission: (.catalogue, .update), doc: CatalogueDocs.updateProduct, use: update)
        products.inClinic(.POST, ":productId", "stock", permission: (.stock, .update), doc: CatalogueDocs.changeStock, use: changeStock)
    }

    struct Product: Content {
        let id: String
        let name: String
        let sku: String?
        let priceCents: Int
        let gstApplies: Bool
        let stock: Int
        let active: Bool
        let createdAt: String
        let updatedAt: String

        init(_ record: ProductRecord) {
            id = record.id.description
            name = record.details.name
            sku = record.details.sku
            priceCents = record.details.priceCents
            gstApplies = record.details.gstApplies
            stock = record.stock
            active = record.details.active
            createdAt = Timestamp.string(record.createdAt)
            updatedAt = Timestamp.string(record.updatedAt)
        }
    }

    struct ProductList: Content { let products: [Product] }

    struct StockInput: Decodable {
        let change: Int?
        let reason: String?
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> ProductList {
        let includeInactive = try request.queryText("includeInactive", maximum: 5) == "true"
        let records = try await ProductCatalogue(scope: scope, services: request.services)
            .list(includeInactive: includeInactive, paging: try request.paging(.diary))
        return ProductList(products: records.map(Product.init))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let details = try request.decodeBody(ProductSubmission.self).validatedForCreation()
        return try AppointmentsAPI.created(Product(try await ProductCatalogue(scope: scope, services: request.services).create(details)))
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Product {
        Product(try await ProductCatalogue(scope: scope, services: request.services).find(try request.pathID("productId")))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> Product {
        let id: ProductID = try request.pathID("productId")
        let submission = try request.decodeBody(ProductSubmission.self)
        return Product(try await ProductCatalogue(scope: scope, services: request.services).update(id, with: submission))
    }

    static func changeStock(_ request: Request, scope: ClinicScope) async throws -> Product {
        let id: ProductID = try request.pathID("productId")
        let input = try request.decodeBody(StockInput.self)
        let change = try StockChange(delta: input.change, reason: input.reason)
        return Product(try await ProductCatalogue(scope: scope, services: request.services).changeStock(id, by: change))
    }
}
