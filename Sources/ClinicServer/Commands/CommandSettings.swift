import Vapor

/// The flags every command shares: where the data lives. Everything else comes from the
/// environment (see `ServerSettings.environmentHelp`).
protocol DataDirectorySignature: CommandSignature {
    var dataDir: String? { get }
}

extension DataDirectorySignature {
    func settings() throws -> ServerSettings {
        var settings = try ServerSettings.fromEnvironment()
        if let dataDir, !dataDir.isEmpty { settings.dataDirectory = dataDir }
        return settings
    }
}

/// A command that ends with a non-zero exit and a message for the operator.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public let exitCode: Int32
    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}
