import AuditLedger
import Benchmark
import ClinicDomain
import Crypto
import Foundation
import Keyring

// Each benchmark does its operation `scaledIterations` times (a thousand per iteration). The
// baseline is raw swift-crypto AES-GCM from bytes to stored bytes and back (nonce, ciphertext and
// tag in its combined form), in the same process; bench/run reports seal/raw and open/raw.

let realm = UUID()
let row = UUID()
let keys = try! RealmKeys(realm: realm, dataKeys: [DataKey.generate(version: .first)], current: .first,
                          indexKey: BlindIndexKey.generate(version: .first))
let rawKey = SymmetricKey(size: .bits256)

func text(bytes: Int) -> String { String(repeating: "x", count: bytes) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    for size in [64, 1024] {
        let plaintext = text(bytes: size)
        let plainBytes = Data(plaintext.utf8)
        let sealed = try! keys.seal(plaintext, table: "patients", column: "notes", row: row)
        let stored = try! AES.GCM.seal(plainBytes, using: rawKey).combined!

        Benchmark("raw AES-GCM seal \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try AES.GCM.seal(plainBytes, using: rawKey).combined)
            }
        }
        Benchmark("seal \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try keys.seal(plaintext, table: "patients", column: "notes", row: row))
            }
        }
        Benchmark("raw AES-GCM open \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try AES.GCM.open(AES.GCM.SealedBox(combined: stored), using: rawKey))
            }
        }
        Benchmark("open \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try keys.open(sealed, table: "patients", column: "notes", row: row))
            }
        }
    }

    Benchmark("blind index of a phone number") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(keys.blindIndex("+61412345678", kind: .phone))
        }
    }

    let event = AuditEvent(chain: realm, actor: UUID(), action: "patient.read", resourceType: "patient", resource: row,
                           outcome: .success, address: "127.0.0.1", requestID: UUID().uuidString)
    let head = ChainHead(sequence: 41, hash: Data(repeating: 7, count: 32))
    Benchmark("ledger append hash") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(HashChain.append(event, after: head))
        }
    }

    let roles: Set<Role> = [.receptionist]
    Benchmark("permission check") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PermissionMatrix.standard.allows(roles, .patient, .read))
        }
    }
}
