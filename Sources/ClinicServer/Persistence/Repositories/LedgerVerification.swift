import AuditLedger
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// Recomputes every chain (each clinic's and the identity realm's) from the stored events and
/// compares it with the recorded head. Streams rows, so memory stays flat.
public struct LedgerVerification: Sendable {
    public struct ChainSummary: Sendable {
        public let chain: UUID
        public let entries: Int64
    }

    public struct Report: Sendable {
        public var chains: [ChainSummary] = []
        public var fault: ChainFault?
        public var totalEntries: Int64 { chains.reduce(0) { $0 + $1.entries } }
    }

    let store: Store

    init(store: Store) { self.store = store }

    /// Verifies one chain, or every chain when `only` is nil; stops at the first fault.
    public func run(only: UUID? = nil) async throws -> Report {
        var chains: [UUID]
        if let only {
            chains = [only]
        } else {
            // The clinics table is global, so the chain list does not depend on a realm setting.
            chains = [IdentityRealm.id]
            for row in try await store.global.raw("SELECT id FROM clinics ORDER BY created_at_ms").all() {
                chains.append(try row.decode(column: "id", as: UUID.self))
            }
        }
        var report = Report()
        for chain in chains {
            do {
                let count = try await verify(chain: chain)
                report.chains.append(ChainSummary(chain: chain, entries: count))
            } catch let fault as ChainFault {
                report.fault = fault
                return report
            }
        }
        return report
    }

    private func verify(chain: UUID) async throws -> Int64 {
        try await store.transaction(realm: chain) { tx in
            let state = NIOLockedValueBox<(verifier: ChainVerifier, fault: ChainFault?, decodeError: (any Error)?)>(
                (ChainVerifier(chain: chain), nil, nil))
            try await tx.sql.raw("""
                SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events WHERE chain_id = \(bind: chain) ORDER BY sequence
                """).run { row in
                state.withLockedValue { state in
                    guard state.fault == nil, state.decodeError == nil else { return }
                    do {
                        try state.verifier.check(try Ledger.entry(from: row))
                    } catch let fault as ChainFault {
                        state.fault = fault
                    } catch {
                        state.decodeError = error
                    }
                }
            }
            let (verifier, fault, decodeError) = state.withLockedValue { $0 }
            if let fault { throw fault }
            if let decodeError { throw decodeError }
            let head = try await tx.sql.raw("SELECT sequence, head_hash FROM audit_heads WHERE chain_id = \(bind: chain)").first()
            try verifier.finish(recordedHead: try head.map {
                ChainHead(sequence: try $0.decode(column: "sequence", as: Int64.self), hash: try $0.decode(column: "head_hash", as: Data.self))
            })
            return verifier.verifiedCount
        }
    }
}
