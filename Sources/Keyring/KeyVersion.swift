/// The version of one clinic's data key. Every sealed value names the version that sealed it,
/// so old versions keep opening while new writes use the current one.
public struct KeyVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let first = KeyVersion(rawValue: 1)
    public var next: KeyVersion { KeyVersion(rawValue: rawValue + 1) }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "v\(rawValue)" }
}
