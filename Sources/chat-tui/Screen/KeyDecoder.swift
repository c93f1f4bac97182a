/// Turns what ncurses reads into ``Key``s: a pure state machine, tested without a terminal.
///
/// With `keypad` on, ncurses already turns the arrow, page and function keys into key codes. What
/// it leaves to us: control characters (Ctrl-A is byte 1), Alt as ESC followed by the key, a lone
/// ESC (known only when nothing follows it in time), and bracketed paste, whose `ESC [200~` …
/// `ESC [201~` markers no terminfo entry names, so they arrive as plain characters.
struct KeyDecoder {
    /// One read from ncurses.
    enum Input: Equatable {
        /// `get_wch` returned `OK`: a character (or a control byte).
        case scalar(Unicode.Scalar)
        /// `get_wch` returned `KEY_CODE_YES`: one of ncurses' `KEY_*` codes.
        case keyCode(Int32)
        /// Nothing arrived within the escape delay.
        case timeout
    }

    enum Output: Equatable {
        case key(Key)
        /// The terminal changed size (`KEY_RESIZE`).
        case resize
    }

    /// ncurses' key codes that mean something here, passed in so that this type needs no curses.
    struct KeyCodes: Sendable {
        var up, down, left, right, home, end, pageUp, pageDown, delete, backspace, enter, resize, btab: Int32
        /// `KEY_F(0)`; `KEY_F(n)` is this plus n.
        var f0: Int32
    }

    /// The longest paste kept; the rest is dropped. A paste is a message draft, and a message is
    /// at most a few thousand characters anyway.
    static let maxPasteScalars = 64 * 1024

    private enum State: Equatable {
        case ground
        /// ESC was read; the next input decides between Alt, a CSI sequence and a lone ESC.
        case escape
        /// Inside `ESC [`: collecting parameters until the final byte.
        case controlSequence(String)
        /// Between `ESC [200~` and `ESC [201~`.
        case paste([Unicode.Scalar], closing: String)
    }

    private let codes: KeyCodes
    private var state = State.ground

    init(codes: KeyCodes) {
        self.codes = codes
    }

    /// Whether a lone ESC may still be pending: the caller reads with the escape delay as timeout
    /// and feeds `.timeout` when nothing came.
    var isWaitingAfterEscape: Bool {
        state == .escape
    }

    mutating func feed(_ input: Input) -> [Output] {
        switch (state, input) {
        case (.paste(var text, let closing), .scalar(let scalar)):
            state = .ground  // releases the state's copy, so appending does not copy the paste
            return continuePaste(&text, closing: closing, scalar)
        case (.paste, _):
            return []
        case (.escape, .timeout):
            state = .ground
            return [.key(.escape)]
        case (.escape, .scalar("[")):
            state = .controlSequence("")
            return []
        case (.escape, .scalar("\u{1B}")):
            return [.key(.escape)]
        case (.escape, .scalar(let scalar)):
            state = .ground
            return [.key(.alt(Character(scalar)))]
        case (.escape, .keyCode):
            state = .ground
            return [.key(.escape)] + feed(input)
        case (.controlSequence(let parameters), .scalar(let scalar)):
            return continueControlSequence(parameters, scalar)
        case (.controlSequence, _):
            state = .ground
            return []
        case (.ground, .timeout):
            return []
        case (.ground, .keyCode(let code)):
            return keyCode(code).map { [$0] } ?? []
        case (.ground, .scalar(let scalar)):
            return ground(scalar)
        }
    }

    private mutating func ground(_ scalar: Unicode.Scalar) -> [Output] {
        switch scalar.value {
        case 0x1B:
            state = .escape
            return []
        case 0x0D, 0x0A:
            return [.key(.enter)]
        case 0x09:
            return [.key(.tab)]
        case 0x7F, 0x08:
            return [.key(.backspace)]
        case 0x01...0x1A:
            return [.key(.ctrl(Character(Unicode.Scalar(scalar.value + 0x60)!)))]
        case 0x00..<0x20:
            return []
        default:
            return [.key(.character(Character(scalar)))]
        }
    }

    private mutating func continueControlSequence(_ parameters: String, _ scalar: Unicode.Scalar) -> [Output] {
        guard (0x40...0x7E).contains(scalar.value) else {
            // Parameters are short; anything longer is not a sequence we know.
            state = parameters.count < 16 ? .controlSequence(parameters + String(scalar)) : .ground
            return []
        }
        state = .ground
        switch (parameters, scalar) {
        case ("200", "~"):
            state = .paste([], closing: "")
            return []
        case ("", "A"): return [.key(.up)]
        case ("", "B"): return [.key(.down)]
        case ("", "C"): return [.key(.right)]
        case ("", "D"): return [.key(.left)]
        case ("", "H"), ("1", "~"), ("7", "~"): return [.key(.home)]
        case ("", "F"), ("4", "~"), ("8", "~"): return [.key(.end)]
        case ("3", "~"): return [.key(.delete)]
        case ("5", "~"): return [.key(.pageUp)]
        case ("6", "~"): return [.key(.pageDown)]
        case ("", "Z"): return [.key(.tab)]
        default: return []
        }
    }

    /// Collects pasted text; the closing marker `ESC [201~` is matched as it arrives, and a
    /// partial match that fails is text after all.
    private mutating func continuePaste(_ text: inout [Unicode.Scalar], closing: String, _ scalar: Unicode.Scalar) -> [Output] {
        let marker = "\u{1B}[201~"
        let candidate = closing + String(scalar)
        if marker.hasPrefix(candidate) {
            if candidate == marker {
                state = .ground
                // Terminals send CR for a newline inside a paste; the draft keeps LF.
                let pasted = String(String.UnicodeScalarView(text)).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                return [.key(.paste(pasted))]
            }
            state = .paste(text, closing: candidate)
            return []
        }
        for pending in candidate.unicodeScalars where text.count < Self.maxPasteScalars {
            text.append(pending)
        }
        state = .paste(text, closing: "")
        return []
    }

    private func keyCode(_ code: Int32) -> Output? {
        switch code {
        case codes.up: .key(.up)
        case codes.down: .key(.down)
        case codes.left: .key(.left)
        case codes.right: .key(.right)
        case codes.home: .key(.home)
        case codes.end: .key(.end)
        case codes.pageUp: .key(.pageUp)
        case codes.pageDown: .key(.pageDown)
        case codes.delete: .key(.delete)
        case codes.backspace: .key(.backspace)
        case codes.enter: .key(.enter)
        case codes.btab: .key(.tab)
        case codes.resize: .resize
        case (codes.f0 + 1)...(codes.f0 + 12): .key(.function(Int(code - codes.f0)))
        default: nil
        }
    }
}
