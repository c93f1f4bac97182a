/// Where things go on a terminal of a given size. The model needs the message pane's size to count
/// wrapped lines for the scrollback and the input's width for its horizontal window; the screen
/// draws to the same numbers so that both agree.
///
/// Rows: the tab bar on row 0; the message pane (or the file view) and the users pane below it;
/// the status line above the input line (one row, more while a long text wraps); the input line on the last row. The users pane is on the
/// right, after a one-column separator, and disappears on terminals narrower than 60 columns.
struct ScreenLayout: Equatable, Sendable {
    var columns: Int
    var rows: Int
    /// `/nicklist` and Alt-N hide the users pane to give the messages the whole width.
    var usersPaneHidden = false
    /// Rows of the status line: more than one while a long notice or error wraps.
    var statusRows = 1

    var usersPaneWidth: Int {
        columns >= 60 && !usersPaneHidden ? min(24, max(14, columns / 5)) : 0
    }

    var messagePaneWidth: Int {
        max(1, columns - usersPaneWidth - (usersPaneWidth > 0 ? 1 : 0))
    }

    /// Also the height of the file view and of the users pane.
    var messagePaneHeight: Int { max(1, rows - 2 - statusRows) }
    /// The first row of the status line.
    var statusRow: Int { max(0, rows - 1 - statusRows) }
    var inputRow: Int { max(0, rows - 1) }
}
