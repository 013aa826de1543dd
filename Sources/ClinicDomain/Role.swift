/// What a member of a clinic may be. A person may hold several roles in one clinic.
public enum Role: String, CaseIterable, Codable, Sendable, Hashable, Comparable {
    case owner, admin, practitioner, receptionist, bookkeeper

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Parses a stored or submitted role list such as `owner,practitioner`; unknown names are refused.
    public static func parseList(_ text: String) -> Set<Role>? {
        var roles = Set<Role>()
        for part in text.split(separator: ",") {
            guard let role = Role(rawValue: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            roles.insert(role)
        }
        return roles
    }

    public static func storedList(_ roles: Set<Role>) -> String {
        roles.sorted().map(\.rawValue).joined(separator: ",")
    }
}

extension Role {
    /// Whether someone holding `actor` roles may give or take away `roles`: only an owner
    /// deals in the owner role; owners and admins deal in the rest.
    public static func may(_ actor: Set<Role>, grantOrRevoke roles: Set<Role>) -> Bool {
        if roles.contains(.owner) { return actor.contains(.owner) }
        return actor.contains(.owner) || actor.contains(.admin)
    }

    /// Reads a submitted role list: at least one, every one known.
    public static func parseSubmitted(_ names: [String]?, field: String = "roles") throws(ClinicError) -> Set<Role> {
        guard let names, !names.isEmpty else {
            throw .invalid(field, "Give at least one role: \(allCases.map(\.rawValue).joined(separator: ", ")).", code: "required")
        }
        var roles = Set<Role>()
        for name in names {
            guard let role = Role(rawValue: name) else {
                throw .invalid(field, "Unknown role '\(name.prefix(40))'; use \(allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            roles.insert(role)
        }
        return roles
    }
}
