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
