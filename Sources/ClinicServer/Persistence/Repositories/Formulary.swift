import ClinicDomain
import Foundation
import SQLKit

struct FormulaRecord: Sendable {
    let id: FormulaID
    let formula: HerbalFormula
    let updatedAt: Date
}

/// The clinic's library of herbal formulas with default doses. Clinic knowledge, not anyone's
/// record, so stored in the clear (a prescription copies a formula and is sealed).
struct Formulary: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let columns = "id, name, herbs, instructions, updated_at_ms"

    func list() async throws -> [FormulaRecord] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            let rows = try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM formulas WHERE clinic_id = \(bind: scope.realm) ORDER BY name, id
                """).all()
            try await Ledger.append(scope.event("formula.list"), in: tx)
            return try rows.map(Self.record)
        }
    }

    func find(_ id: FormulaID) async throws -> FormulaRecord {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<FormulaRecord> in
            let record = try await Self.find(id, clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("formula.read", resourceType: "formula", resource: id.rawValue,
                                                outcome: record == nil ? .failure : .success), in: tx)
            return record.map(Outcome.done) ?? .refused(.notFound)
        }.get()
    }

    func create(_ formula: HerbalFormula) async throws -> FormulaRecord {
        let scope = self.scope
        let id = FormulaID.random()
        let now = Date().milliseconds
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                INSERT INTO formulas (id, clinic_id, name, herbs, instructions, created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: formula.name), \(bind: try Self.encode(formula.herbs)),
                        \(bind: formula.instructions), \(bind: now), \(bind: now))
                """).run()
            try await Ledger.append(scope.event("formula.create", resourceType: "formula", resource: id.rawValue), in: tx)
        }
        return FormulaRecord(id: id, formula: formula, updatedAt: Date(milliseconds: now))
    }

    /// Replaces a formula; prescriptions already written keep the copy they took.
    func replace(_ id: FormulaID, with formula: HerbalFormula) async throws -> FormulaRecord {
        let scope = self.scope
        let now = Date().milliseconds
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<FormulaRecord> in
            let changed = try await tx.sql.raw("""
                UPDATE formulas SET name = \(bind: formula.name), herbs = \(bind: try Self.encode(formula.herbs)),
                    instructions = \(bind: formula.instructions), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) RETURNING id
                """).first() != nil
            try await Ledger.append(scope.event("formula.update", resourceType: "formula", resource: id.rawValue,
                                                outcome: changed ? .success : .failure), in: tx)
            return changed ? .done(FormulaRecord(id: id, formula: formula, updatedAt: Date(milliseconds: now))) : .refused(.notFound)
        }.get()
    }

    static func find(_ id: FormulaID, clinic: UUID, in tx: ScopedSQL) async throws -> FormulaRecord? {
        try await tx.sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM formulas WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)
            """).first().map(record)
    }

    private static func encode(_ herbs: [HerbDose]) throws -> String {
        String(decoding: try JSONEncoder().encode(herbs), as: UTF8.self)
    }

    static func record(_ row: any SQLRow) throws -> FormulaRecord {
        let herbs = try JSONDecoder().decode([HerbDose].self, from: Data(try row.decode(column: "herbs", as: String.self).utf8))
        return FormulaRecord(
            id: FormulaID(try row.decode(column: "id", as: UUID.self)),
            formula: HerbalFormula(name: try row.decode(column: "name", as: String.self), herbs: herbs,
                                   instructions: try row.decode(column: "instructions", as: String?.self)),
            updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)))
    }
}
