import ClinicDomain
import Foundation
import Keyring

/// The link at the foot of every reminder, and in its `List-Unsubscribe` header (RFC 2369, with
/// one-click per RFC 8058): `/unsubscribe?token=…`, where the token is the clinic's id, the
/// patient's id and a code only this server can make for that pair and this one purpose
/// (`RealmKeys.linkCode`). It needs no sign-in and does one thing: stop e-mail to that patient
/// from that clinic. It does not expire; it stops working when the clinic's index key version
/// that made it is retired.
enum UnsubscribeLink {
    static let purpose = "unsubscribe"

    static func token(clinic: UUID, patient: PatientID, keys: RealmKeys) -> String {
        var token = bytes(of: clinic)
        token.append(bytes(of: patient.rawValue))
        token.append(keys.linkCode(purpose: purpose, subject: subject(clinic: clinic, patient: patient)))
        return token.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func url(base: String, token: String) -> String { base + "/unsubscribe?token=" + token }

    /// The parts of a token, or nil when it is not one (the code is checked by the caller, under
    /// the clinic's keys).
    static func parse(_ token: String) -> (clinic: UUID, patient: PatientID, code: Data)? {
        guard token.count == 86, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        let standard = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=="
        guard let data = Data(base64Encoded: standard), data.count == 64 else { return nil }
        return (uuid(data.prefix(16)), PatientID(uuid(data.dropFirst(16).prefix(16))), Data(data.suffix(32)))
    }

    static func subject(clinic: UUID, patient: PatientID) -> String {
        clinic.uuidString.lowercased() + "/" + patient.description
    }

    private static func bytes(of id: UUID) -> Data {
        withUnsafeBytes(of: id.uuid) { Data($0) }
    }

    private static func uuid(_ data: Data) -> UUID {
        let b = [UInt8](data)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
