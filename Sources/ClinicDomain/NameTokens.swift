import Foundation

/// Turns a name into the tokens a blind index is built from: case and accents folded,
/// split on anything that is not a letter or digit. `"Zoë O'Brien-Smith"` gives
/// `["zoe", "o", "brien", "smith"]`.
public enum NameTokens {
    public static func tokens(_ text: String) -> [String] {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var seen = Set<String>()
        var result: [String] = []
        for piece in folded.split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
            let token = String(piece)
            if seen.insert(token).inserted { result.append(token) }
        }
        return result
    }
}
