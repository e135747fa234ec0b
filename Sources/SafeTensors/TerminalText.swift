/// Names and metadata read from a file, made safe to print on one terminal line: control characters
/// (C0, DEL, C1) and bidirectional overrides are written as `\u{XX}` escapes, so that a hostile tensor name
/// cannot move the cursor, recolour the terminal or split an error over lines (issue "Hostile inputs").
public enum TerminalText {
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether `text` holds a character that `escaped` would rewrite.
    public static func hasControlCharacters(_ text: String) -> Bool { text.unicodeScalars.contains(where: needsEscape) }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
