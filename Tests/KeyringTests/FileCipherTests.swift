import Crypto
import Foundation
import Testing
@testable import Keyring

@Suite("File cipher")
struct FileCipherTests {
    let key = SymmetricKey(size: .bits256)
    let version = UUID()

    /// Seals `plaintext` as a file, answering the header and the stored chunks.
    func sealed(_ plaintext: Data, version: UUID? = nil) throws -> (header: Data, chunks: [Data]) {
        var sealer = FileSealer(fileKey: key, version: version ?? self.version)
        var chunks: [Data] = []
        var offset = 0
        while plaintext.count - offset > FileCipher.chunkSize {
            chunks.append(try sealer.seal(plaintext.subdata(in: offset..<offset + FileCipher.chunkSize), isFinal: false))
            offset += FileCipher.chunkSize
        }
        chunks.append(try sealer.seal(plaintext.subdata(in: offset..<plaintext.count), isFinal: true))
        return (sealer.header, chunks)
    }

    func opened(_ header: Data, _ chunks: [Data], version: UUID? = nil) throws -> Data {
        var opener = try FileOpener(fileKey: key, version: version ?? self.version, storedHeader: header)
        var out = Data()
        for (i, chunk) in chunks.enumerated() { out.append(try opener.open(chunk, isFinal: i == chunks.count - 1)) }
        return out
    }

    // DAO-6
    @Test("files of every size round-trip, and no plaintext is stored", arguments: [0, 1, FileCipher.chunkSize, FileCipher.chunkSize + 1, 3 * FileCipher.chunkSize + 77])
    func roundTrip(size: Int) throws {
        let plaintext = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) })
        let (header, chunks) = try sealed(plaintext)
        #expect(chunks.count == max(1, (size + FileCipher.chunkSize - 1) / FileCipher.chunkSize))
        #expect(chunks.dropLast().allSatisfy { $0.count == FileCipher.storedChunkSize })
        #expect(try opened(header, chunks) == plaintext)
        if size >= 64 { #expect(!chunks.reduce(Data(), +).contains(plaintext.prefix(64))) }
    }

    @Test("a file cut short at a chunk boundary does not open as complete")
    func truncated() throws {
        let (header, chunks) = try sealed(Data(count: 2 * FileCipher.chunkSize + 5))
        #expect(throws: KeyringError.authenticationFailed) { try opened(header, Array(chunks.dropLast())) }
    }

    @Test("reordered chunks do not open")
    func reordered() throws {
        let (header, chunks) = try sealed(Data(count: 2 * FileCipher.chunkSize + 5))
        #expect(throws: KeyringError.authenticationFailed) { try opened(header, [chunks[1], chunks[0], chunks[2]]) }
    }

    @Test("a chunk of another file, or a header of another version, does not open")
    func otherFile() throws {
        let (header, chunks) = try sealed(Data(count: FileCipher.chunkSize + 5))
        let other = UUID()
        let (_, otherChunks) = try sealed(Data(count: FileCipher.chunkSize + 5), version: other)
        #expect(throws: KeyringError.authenticationFailed) { try opened(header, [otherChunks[0], chunks[1]]) }
        #expect(throws: KeyringError.authenticationFailed) { try opened(header, chunks, version: other) }
    }
}
