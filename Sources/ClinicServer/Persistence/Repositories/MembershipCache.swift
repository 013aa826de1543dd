import ClinicDomain
import Foundation
import NIOConcurrencyHelpers

/// Memberships kept in memory, so that a request in a clinic costs no query (four round trips on
/// PostgreSQL, where the membership is read in a transaction scoped to the clinic) beyond the
/// session's own. An entry is used only while the person's access version and the clinic's
/// settings version, both read with the session in one statement, are the ones it was read
/// under: the database moves them on every change (`AddAccessVersions`), so a role changed or a
/// member removed by any server of the database holds from the next request. Entries are also
/// dropped after `lifetime`, so nothing is kept long on memory alone.
final class MembershipCache: Sendable {
    struct Versions: Hashable, Sendable {
        let access: Int64
        let clinic: Int64
    }

    private struct Key: Hashable {
        let user: UserID
        let clinic: ClinicID
    }

    private struct Entry {
        let versions: Versions
        let membership: IdentityDirectory.Membership
        let loadedAt: Date
    }

    static let lifetime: TimeInterval = 60
    /// More entries than this and the cache starts again empty: a bound, not an eviction policy.
    static let capacity = 10_000

    private let entries = NIOLockedValueBox<[Key: Entry]>([:])

    /// The membership under `versions`, kept or read with `load` (and then kept, when it exists).
    func membership(of user: UserID, in clinic: ClinicID, versions: Versions?, now: Date = Date(),
                    load: () async throws -> IdentityDirectory.Membership?) async throws -> IdentityDirectory.Membership? {
        let key = Key(user: user, clinic: clinic)
        if let versions, let kept = entries.withLockedValue({ $0[key] }), kept.versions == versions,
           now.timeIntervalSince(kept.loadedAt) < Self.lifetime {
            Metric.membershipCache(hit: true)
            return kept.membership
        }
        Metric.membershipCache(hit: false)
        let found = try await load()
        entries.withLockedValue { entries in
            guard let versions, let found else {
                entries[key] = nil
                return
            }
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[key] = Entry(versions: versions, membership: found, loadedAt: now)
        }
        return found
    }
}
