import Foundation

/// What a stored file is, told from its first bytes and never from its name or the type the
/// uploader claims. Only kinds a clinic keeps (scans, photos, letters, plain notes) are taken:
/// HTML, SVG, scripts and programs are refused, so nothing served back can run in a browser.
public enum FileKind: String, CaseIterable, Sendable, Codable {
    case pdf, png, jpeg, gif, tiff, webp, text

    public var mediaType: String {
        switch self {
        case .pdf: return "application/pdf"
        case .png: return "image/png"
        case .jpeg: return "image/jpeg"
        case .gif: return "image/gif"
        case .tiff: return "image/tiff"
        case .webp: return "image/webp"
        case .text: return "text/plain; charset=utf-8"
        }
    }

    /// The extension a download is named with: what the bytes are, whatever the name said.
    public var fileExtension: String {
        switch self {
        case .pdf: return "pdf"
        case .png: return "png"
        case .jpeg: return "jpg"
        case .gif: return "gif"
        case .tiff: return "tif"
        case .webp: return "webp"
        case .text: return "txt"
        }
    }

    /// The kind of a file from its first bytes (the first chunk, up to 64 KiB), or nil when it
    /// is none ClinicKeep keeps. `isWhole` says the bytes are the whole file; when more follow,
    /// the cut may fall inside a character.
    public static func sniff(_ prefix: some Collection<UInt8>, isWhole: Bool) -> FileKind? {
        let head = Array(prefix.prefix(16))
        func starts(_ magic: [UInt8]) -> Bool { head.starts(with: magic) }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if head.count >= 12, starts(Array("RIFF".utf8)), Array(head[8..<12]) == Array("WEBP".utf8) { return .webp }
        return isPlainText(Array(prefix), isWhole: isWhole) ? .text : nil
    }

    /// UTF-8 without NUL or other control characters than tab and line ends, and not markup:
    /// a file that opens with `<` is refused, whatever follows.
    static func isPlainText(_ bytes: [UInt8], isWhole: Bool) -> Bool {
        guard !bytes.isEmpty else { return false }
        // A chunk boundary may cut a multi-byte character: up to three trailing bytes may be left out.
        guard let text = (0...(isWhole ? 0 : min(3, bytes.count - 1))).lazy
            .compactMap({ String(validating: bytes[..<(bytes.count - $0)], as: UTF8.self) }).first else { return false }
        guard text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return false }
        return text.drop(while: { $0.isWhitespace }).first != "<"
    }
}

/// The name a file was uploaded under: kept sealed, shown to staff, offered when it is
/// downloaded. Never used as a path.
public enum FileName {
    public static let maximumLength = 200

    public static func validated(_ name: String?) throws(ClinicError) -> String {
        let trimmed = withoutInvisibles(name ?? "").trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= maximumLength,
              trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F && $0 != "/" && $0 != "\\" }) else {
            throw .invalid("name", "Name the file in 1 to \(maximumLength) characters, on one line, without slashes.")
        }
        return trimmed
    }
}

extension FileName {
    /// The name a download is offered under: invisible and direction-changing characters taken
    /// out (a right-to-left override can show "cod.exe" as "exe.doc"), and the extension the
    /// file's kind has, in place of whatever extension the uploader wrote ("letter.pdf.exe" of
    /// a PDF downloads as "letter.pdf.pdf", a text file called "run.html" as "run.txt").
    public static func forDownload(_ name: String, kind: FileKind) -> String {
        var base = withoutInvisibles(name).trimmingCharacters(in: .whitespaces)
        if let dot = base.lastIndex(of: "."), dot != base.startIndex {
            let written = base[base.index(after: dot)...]
            if !written.isEmpty, written.count <= 8, written.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                base = String(base[..<dot])
            }
        }
        if base.isEmpty { base = "file" }
        return base + "." + kind.fileExtension
    }

    /// Takes out characters that show nothing or change the direction text is shown in
    /// (Unicode format characters and default-ignorable code points: bidi overrides and
    /// isolates, zero-width spaces and joiners, the byte-order mark, soft hyphens).
    static func withoutInvisibles(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: text.unicodeScalars.filter {
            !($0.properties.generalCategory == .format || $0.properties.isDefaultIgnorableCodePoint)
        })
        return String(kept)
    }
}
