import ClinicDomain
import Foundation
import SQLKit

struct ProductRecord: Sendable {
    let id: ProductID
    let details: ProductDetails
    let stock: Int
    let createdAt: Date
    let updatedAt: Date
}

/// A clinic's products. Not personal data, so reads are not audited; every change is. Stock
/// moves only by counted changes applied in one statement that cannot take it below zero, so
/// two sales of the last unit at once leave exactly one sold.
struct ProductCatalogue: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let columns = "id, name, sku, price_cents, gst_applies, stock, active, created_at_ms, updated_at_ms"

    static let outOfStock = ClinicError.conflict("stock_insufficient", "There is not that much in stock.", field: "change")
    static let overLimit = ClinicError.conflict("stock_limit", "That would take the stock over \(ProductDetails.maximumStock) units.", field: "change")

    func list(includeInactive: Bool, paging: Paging) async throws -> [ProductRecord] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            let filter = includeInactive ? "" : " AND active = 1"
            return try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM products WHERE clinic_id = \(bind: scope.realm)\(unsafeRaw: filter)
                ORDER BY name, id LIMIT \(bind: paging.limit) OFFSET \(bind: paging.offset)
                """).all().map(Self.record)
        }
    }

    func find(_ id: ProductID) async throws -> ProductRecord {
        let scope = self.scope
        let found = try await services.store.transaction(realm: scope.realm) { tx in
            try await Self.row(id, clinic: scope.realm, lock: false, in: tx).map(Self.record)
        }
        guard let found else { throw ClinicError.notFound }
        return found
    }

    func create(_ details: ProductDetails) async throws -> ProductRecord {
        let scope = self.scope
        let id = ProductID.random(), now = Date().milliseconds
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                INSERT INTO products (id, clinic_id, name, sku, price_cents, gst_applies, stock, active, created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: details.name), \(bind: details.sku), \(bind: details.priceCents),
                        \(bind: details.gstApplies ? 1 : 0), \(bind: 0), \(bind: details.active ? 1 : 0), \(bind: now), \(bind: now))
                """).run()
            try await Ledger.append(scope.event("product.create", resourceType: "product", resource: id.rawValue), in: tx)
        }
        return ProductRecord(id: id, details: details, stock: 0, createdAt: Date(milliseconds: now), updatedAt: Date(milliseconds: now))
    }

    func update(_ id: ProductID, with submission: ProductSubmission) async throws -> ProductRecord {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ProductRecord> in
            guard let existing = try await Self.row(id, clinic: scope.realm, lock: true, in: tx).map(Self.record) else {
                try await Ledger.append(scope.event("product.update", resourceType: "product", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let details = try submission.applied(to: existing.details)
            let now = Date().milliseconds
            try await tx.sql.raw("""
                UPDATE products SET name = \(bind: details.name), sku = \(bind: details.sku), price_cents = \(bind: details.priceCents),
                    gst_applies = \(bind: details.gstApplies ? 1 : 0), active = \(bind: details.active ? 1 : 0), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).run()
            let changed = [("name", existing.details.name != details.name), ("sku", existing.details.sku != details.sku),
                           ("priceCents", existing.details.priceCents != details.priceCents),
                           ("gstApplies", existing.details.gstApplies != details.gstApplies), ("active", existing.details.active != details.active)]
                .filter(\.1).map(\.0)
            try await Ledger.append(scope.event("product.update", resourceType: "product", resource: id.rawValue,
                                                detail: changed.isEmpty ? nil : "fields=" + changed.joined(separator: ",")), in: tx)
            return .done(ProductRecord(id: id, details: details, stock: existing.stock, createdAt: existing.createdAt,
                                       updatedAt: Date(milliseconds: now)))
        }.get()
    }

    /// Applies a counted change; refused (409 `stock_insufficient` below zero, `stock_limit` above
    /// the maximum), and nothing changes then.
    func changeStock(_ id: ProductID, by change: StockChange) async throws -> ProductRecord {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<ProductRecord> in
            let now = Date().milliseconds
            // One guarded statement: concurrent changes serialise on the row, and the guard is
            // evaluated against the value each one finds.
            let changed = try await tx.sql.raw("""
                UPDATE products SET stock = stock + \(bind: change.delta), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                  AND stock + \(bind: change.delta) >= 0 AND stock + \(bind: change.delta) <= \(bind: ProductDetails.maximumStock)
                RETURNING \(unsafeRaw: Self.columns)
                """).first().map(Self.record)
            guard let changed else {
                let exists = try await Self.row(id, clinic: scope.realm, lock: false, in: tx) != nil
                try await Ledger.append(scope.event("product.stock", resourceType: "product", resource: id.rawValue, outcome: .failure,
                                                    detail: "change=\(change.delta) reason=\(change.reason.rawValue)"), in: tx)
                guard exists else { return .refused(.notFound) }
                return .refused(change.delta < 0 ? Self.outOfStock : Self.overLimit)
            }
            try await Ledger.append(scope.event("product.stock", resourceType: "product", resource: id.rawValue,
                                                detail: "change=\(change.delta) reason=\(change.reason.rawValue) stock=\(changed.stock)"), in: tx)
            return .done(changed)
        }.get()
    }

    /// Reads one product inside another record's transaction (an invoice line).
    static func find(_ id: ProductID, clinic: UUID, in tx: ScopedSQL) async throws -> ProductRecord? {
        try await row(id, clinic: clinic, lock: false, in: tx).map(record)
    }

    private static func row(_ id: ProductID, clinic: UUID, lock: Bool, in tx: ScopedSQL) async throws -> (any SQLRow)? {
        let lock = lock && tx.kind == .postgres ? " FOR UPDATE" : ""
        return try await tx.sql.raw("""
            SELECT \(unsafeRaw: columns) FROM products WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)\(unsafeRaw: lock)
            """).first()
    }

    static func record(_ row: any SQLRow) throws -> ProductRecord {
        let details = ProductDetails(name: try row.decode(column: "name", as: String.self), sku: try row.decode(column: "sku", as: String?.self),
                                     priceCents: Int(try row.decode(column: "price_cents", as: Int64.self)),
                                     gstApplies: try row.decode(column: "gst_applies", as: Int64.self) != 0,
                                     active: try row.decode(column: "active", as: Int64.self) != 0)
        return ProductRecord(id: ProductID(try row.decode(column: "id", as: UUID.self)), details: details,
                             stock: Int(try row.decode(column: "stock", as: Int64.self)),
                             createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                             updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)))
    }
}
