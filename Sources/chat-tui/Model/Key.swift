/// A key press as the screen layer decodes it from ncurses. Letters in `ctrl` and `alt` are
/// lowercase (`.ctrl("w")` for Ctrl-W, `.alt("1")` for Alt-1, which terminals send as ESC 1).
enum Key: Equatable, Sendable {
    case character(Character)
    case enter
    case backspace
    case delete
    case left
    case right
    case up
    case down
    case home
    case end
    case pageUp
    case pageDown
    case tab
    case escape
    case ctrl(Character)
    case alt(Character)
    /// F1…F12.
    case function(Int)
    /// A bracketed paste (`ESC [200~ … ESC [201~`), delivered whole so that its newlines are text,
    /// not Enter presses. Without bracketed paste the terminal types a paste key by key and every
    /// line would be sent: the screen layer turns paste mode on for this reason.
    case paste(String)
}

extension Key {
    /// How far this key moves the selection in a list of `rows` rows whose page is `page` rows
    /// (Up, Down, Page Up, Page Down, Home, End); `nil` for any other key.
    func listMovement(page: Int, rows: Int) -> Int? {
        switch self {
        case .up: -1
        case .down: 1
        case .pageUp: -page
        case .pageDown: page
        case .home: -rows
        case .end: rows
        default: nil
        }
    }
}
