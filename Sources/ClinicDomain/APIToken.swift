import Foundation

/// What an integration's API token may be issued for. A token acts in one clinic with the roles
/// it names, and never as a person: only the desk's and the books' roles (a booking widget, an
/// SMS reminder service, an accounting sync), never an owner's, an administrator's or a
/// clinician's, so no token manages staff or writes and signs clinical notes.
public enum APITokenRules {
    public static let grantableRoles: Set<Role> = [.receptionist, .bookkeeper]
    public static let maximumLabelLength = 100
    public static let lifetimeDays = 1...365
    public static let defaultLifetimeDays = 90

    public static func checkLabel(_ label: String?) throws(ClinicError) -> String {
        let trimmed = (label ?? "").trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= maximumLabelLength, trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .invalid("label", "Name the token in 1 to \(maximumLabelLength) characters, on one line.")
        }
        return trimmed
    }

    public static func checkRoles(_ names: [String]?) throws(ClinicError) -> Set<Role> {
        let roles = try Role.parseSubmitted(names)
        guard roles.isSubset(of: grantableRoles) else {
            throw .invalid("roles", "An API token may hold only these roles: " + grantableRoles.sorted().map(\.rawValue).joined(separator: ", ") + ".")
        }
        return roles
    }

    public static func checkLifetime(_ days: Int?) throws(ClinicError) -> Int {
        let days = days ?? defaultLifetimeDays
        guard lifetimeDays.contains(days) else {
            throw .invalid("expiresInDays", "A token lasts \(lifetimeDays.lowerBound) to \(lifetimeDays.upperBound) days.")
        }
        return days
    }
}
