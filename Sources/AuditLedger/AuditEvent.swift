import Foundation

/// One entry of the ledger: who did what to which record, with what outcome, when, from where.
///
/// Only ids and fixed words: never a name, a phone, a note or a token. The `chain` is the
/// clinic the event belongs to, or `AuditEvent.identityChain` for sign-in events that
/// belong to no clinic.
public struct AuditEvent: Sendable, Equatable {
    public var chain: UUID
    public var occurredAt: Date
    public var actor: UUID?
    public var action: String
    public var resourceType: String?
    public var resource: UUID?
    public var outcome: Outcome
    public var address: String?
    public var requestID: String?
    /// Ids only: for a list or search, the ids it returned.
    public var detail: String?

    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case success, failure, denied
    }

    /// The chain of events that belong to no clinic (sign-in attempts, identity changes).
    public static let identityChain = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    public init(chain: UUID, occurredAt: Date = Date(), actor: UUID?, action: String, resourceType: String? = nil,
                resource: UUID? = nil, outcome: Outcome, address: String? = nil, requestID: String? = nil, detail: String? = nil) {
        self.chain = chain
        // Millisecond precision: what both databases store exactly, so the hash recomputes.
        self.occurredAt = Date(timeIntervalSince1970: (occurredAt.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        self.actor = actor
        self.action = action
        self.resourceType = resourceType
        self.resource = resource
        self.outcome = outcome
        self.address = address
        self.requestID = requestID
        self.detail = detail
    }

    public var occurredAtMilliseconds: Int64 { Int64((occurredAt.timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// An event as the ledger holds it: its place in the chain and the hash that seals it there.
public struct LedgerEntry: Sendable, Equatable {
    public var sequence: Int64
    public var event: AuditEvent
    public var hash: Data
    /// The chain key's version the hash is a MAC under; nil for an entry written before chains were keyed.
    public var keyVersion: UInt32?

    public init(sequence: Int64, event: AuditEvent, hash: Data, keyVersion: UInt32? = nil) {
        self.sequence = sequence
        self.event = event
        self.hash = hash
        self.keyVersion = keyVersion
    }
}
