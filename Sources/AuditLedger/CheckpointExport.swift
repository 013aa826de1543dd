import Foundation

/// The file `clinickeep audit checkpoints --export` writes, to be kept away from the database:
/// every checkpoint with the public keys that verify them. Given back to `audit verify`, it
/// catches a ledger rewritten or cut back after the export, even by someone who could also
/// rewrite the checkpoints stored beside it.
public struct CheckpointExport: Codable, Sendable, Equatable {
    public static let currentFormat = "clinickeep.audit-checkpoints.v1"

    public struct Key: Codable, Sendable, Equatable {
        public var version: UInt32
        /// Ed25519 public key, base64.
        public var publicKey: String
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var chain: UUID
        public var sequence: Int64
        /// SHA-256 head hash, base64.
        public var headHash: String
        public var signedAtMs: Int64
        public var keyVersion: UInt32
        /// Ed25519 signature, base64.
        public var signature: String
    }

    public var format: String
    public var exportedAtMs: Int64
    public var keys: [Key]
    public var checkpoints: [Entry]

    public init(exportedAtMs: Int64, keys: CheckpointKeys, checkpoints: [Checkpoint]) {
        self.format = Self.currentFormat
        self.exportedAtMs = exportedAtMs
        self.keys = keys.versions.compactMap { version in
            keys.publicKey(version: version).map { Key(version: version, publicKey: $0.base64EncodedString()) }
        }
        self.checkpoints = checkpoints.map {
            Entry(chain: $0.chain, sequence: $0.sequence, headHash: $0.headHash.base64EncodedString(), signedAtMs: $0.signedAtMilliseconds,
                  keyVersion: $0.keyVersion, signature: $0.signature.base64EncodedString())
        }
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads an export, refusing another format or a damaged value rather than guessing.
    public static func decode(_ data: Data) throws -> CheckpointExport {
        let export: CheckpointExport
        do {
            export = try JSONDecoder().decode(CheckpointExport.self, from: data)
        } catch {
            throw Malformed(description: "not a checkpoint export (expected JSON in format \(currentFormat))")
        }
        guard export.format == currentFormat else { throw Malformed(description: "unknown checkpoint export format \(export.format)") }
        for key in export.keys where Data(base64Encoded: key.publicKey)?.count != 32 {
            throw Malformed(description: "exported key v\(key.version) is not an Ed25519 public key")
        }
        for entry in export.checkpoints where Data(base64Encoded: entry.headHash)?.count != 32 || Data(base64Encoded: entry.signature) == nil {
            throw Malformed(description: "exported checkpoint \(entry.sequence) of chain \(entry.chain.uuidString.lowercased()) is damaged")
        }
        return export
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The exported checkpoints, as checked by `ChainVerifier`.
    public var decodedCheckpoints: [Checkpoint] {
        checkpoints.map {
            Checkpoint(chain: $0.chain, sequence: $0.sequence, headHash: Data(base64Encoded: $0.headHash) ?? Data(),
                       signedAtMilliseconds: $0.signedAtMs, keyVersion: $0.keyVersion, signature: Data(base64Encoded: $0.signature) ?? Data())
        }
    }

    /// Versions whose exported public key differs from the one given: the signing key was
    /// replaced since the export.
    public func keysDiffering(from keys: CheckpointKeys) -> [UInt32] {
        self.keys.filter { keys.publicKey(version: $0.version)?.base64EncodedString() != $0.publicKey }.map(\.version)
    }
}
