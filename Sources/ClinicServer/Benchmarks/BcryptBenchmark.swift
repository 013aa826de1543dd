import Foundation
import Vapor

/// The ceiling for sign-ins: how many password checks per second this machine does in process,
/// on as many threads as it has cores, at the server's bcrypt cost. bench/run puts the server's
/// sign-in rate (W5) next to it, so W5's figure reads as a fraction of what bcrypt allows.
public enum BcryptBenchmark {
    public struct Report: Sendable, Codable {
        public let cost: Int
        public let threads: Int
        public let checks: Int
        public let seconds: Double
        public let hashesPerSecond: Double
    }

    public static func run(seconds: Double, cost: Int = ServerSettings().bcryptCost,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Report {
        // The same check a sign-in makes: bcrypt over the scheme's pre-hash of the password.
        let stored = try Bcrypt.hash(ClinicServices.preHash("correct horse battery staple"), cost: cost)
        let candidate = ClinicServices.preHash("correct horse battery staple")
        let counts = ThreadCounts(threads)
        let started = Date()
        let deadline = started.addingTimeInterval(seconds)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            while Date() < deadline {
                guard (try? Bcrypt.verify(candidate, created: stored)) == true else { return }
                counts.add(thread)
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        let checks = counts.total
        return Report(cost: cost, threads: threads, checks: checks, seconds: elapsed, hashesPerSecond: Double(checks) / elapsed)
    }

    /// One counter per thread, read once every thread has finished.
    private final class ThreadCounts: @unchecked Sendable {
        private var counts: [Int]
        private let lock = NSLock()
        init(_ threads: Int) { counts = Array(repeating: 0, count: threads) }
        func add(_ thread: Int) { lock.withLock { counts[thread] += 1 } }
        var total: Int { lock.withLock { counts.reduce(0, +) } }
    }
}
