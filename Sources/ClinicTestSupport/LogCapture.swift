import ClinicServer
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Every log line the test process writes, through the same redacting handler the server
/// uses, so tests can assert what never reaches a log.
public enum LogCapture {
    private static let lines = NIOLockedValueBox<[String]>([])

    private static let bootstrapped: Void = {
        LoggingSystem.bootstrap { label in
            RedactingLogHandler(label: label, level: .info) { line in LogCapture.lines.withLockedValue { $0.append(line) } }
        }
    }()

    public static func install() { _ = bootstrapped }

    public static var all: [String] { lines.withLockedValue { $0 } }
}
