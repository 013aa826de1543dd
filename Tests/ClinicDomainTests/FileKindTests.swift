import ClinicDomain
import Testing

@Suite("File kinds")
struct FileKindTests {
    @Test("kinds are told from magic bytes, whatever the file is called")
    func magicBytes() {
        #expect(FileKind.sniff(Array("%PDF-1.4\n".utf8), isWhole: true) == .pdf)
        #expect(FileKind.sniff([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], isWhole: true) == .jpeg)
        #expect(FileKind.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8), isWhole: true) == .webp)
        #expect(FileKind.sniff([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], isWhole: true) == .tiff)
    }

    @Test("plain text is UTF-8 without control characters and never opens with markup")
    func plainText() {
        #expect(FileKind.sniff(Array("Referral: knee pain\r\n\tsee notes".utf8), isWhole: true) == .text)
        #expect(FileKind.sniff(Array("  <!doctype html>".utf8), isWhole: true) == nil)
        #expect(FileKind.sniff(Array("a\u{0}b".utf8), isWhole: true) == nil)
        #expect(FileKind.sniff([0x4D, 0x5A, 0x90, 0x00], isWhole: true) == nil)
    }

    @Test("a first chunk cut inside a character is text when more follows, and not when it is the whole file")
    func cutCharacter() {
        let cut = Array("Café ".utf8) + Array("é".utf8).prefix(1)
        #expect(FileKind.sniff(cut, isWhole: false) == .text)
        #expect(FileKind.sniff(cut, isWhole: true) == nil)
    }

    // Security review round 2, A6: a download kept the uploader's extension and any invisible
    // or direction-changing characters.
    @Test("a download is named with its kind's extension, without invisible or direction-changing characters")
    func downloadName() {
        #expect(FileName.forDownload("letter.exe", kind: .text) == "letter.txt")
        #expect(FileName.forDownload("Consent form.pdf", kind: .pdf) == "Consent form.pdf")
        #expect(FileName.forDownload("scan", kind: .png) == "scan.png")
        #expect(FileName.forDownload("photo.JPEG", kind: .jpeg) == "photo.jpg")
        #expect(FileName.forDownload("invoice\u{202E}fdp.exe", kind: .pdf) == "invoicefdp.pdf")
        #expect(FileName.forDownload("a\u{200B}b\u{2066}c\u{FEFF}.txt", kind: .text) == "abc.txt")
        #expect(FileName.forDownload("\u{202E}", kind: .gif) == "file.gif")
        #expect(FileName.forDownload(".bashrc", kind: .text) == ".bashrc.txt")
    }

    @Test("an uploaded name loses its invisible and direction-changing characters")
    func uploadNameCleaned() throws {
        #expect(try FileName.validated("report\u{202E}fdp.exe") == "reportfdp.exe")
        #expect(throws: ClinicError.self) { try FileName.validated("\u{200B}\u{200F}") }
    }
}
