import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import Vapor
import X509

/// The server's certificate: the operator's, or one generated on first run (P-256, self-signed,
/// for localhost, the loopback addresses and the configured host name).
enum TLSMaterial {
    struct Loaded {
        let configuration: TLSConfiguration
        let generatedNow: Bool
        let certificatePath: String
    }

    static func load(_ settings: ServerSettings) throws -> Loaded {
        var generatedNow = false
        let certificatePath = settings.certificatePath ?? settings.generatedCertificatePath
        let keyPath = settings.privateKeyPath ?? settings.generatedPrivateKeyPath
        if settings.certificatePath == nil, !FileManager.default.fileExists(atPath: certificatePath) {
            try generateSelfSigned(hostname: settings.hostname, certificatePath: certificatePath, keyPath: keyPath)
            generatedNow = true
        }
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = settings.minimumTLS == .v13 ? .tlsv13 : .tlsv12
        return Loaded(configuration: configuration, generatedNow: generatedNow, certificatePath: certificatePath)
    }

    static func generateSelfSigned(hostname: String, certificatePath: String, keyPath: String) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("ClinicKeep")
            CommonName("ClinicKeep self-signed")
        }
        var alternativeNames: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                                               .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))]
        if let address = ipv4Bytes(hostname) {
            if address != [127, 0, 0, 1] { alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address)))) }
        } else if hostname != "localhost", !hostname.contains(":") {
            alternativeNames.append(.dnsName(hostname))
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(397 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                // No KeyUsage: one without keyCertSign makes BoringSSL (NIOSSL, and so
                // `security-report`) refuse this self-signed certificate as its own trust root,
                // and keyCertSign on a non-CA certificate breaks RFC 5280. Its absence is allowed.
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        let certificatePEM = try certificate.serializeAsPEM().pemString
        try writePrivate(Data(key.pemRepresentation.utf8), to: keyPath)
        try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
    }

    private static func ipv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    /// Creates the file with mode 0600 from the start.
    static func writePrivate(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw SettingsError("could not write \(path)")
        }
    }
}
