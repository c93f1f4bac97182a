/// What `/help` and F1 show: every command and key, one per line. The screen wraps the lines to
/// the terminal's width and scrolls them when they do not fit, so nothing here is ever cut.
enum HelpText {
    static let lines: [String] = SlashCommand.names.compactMap { SlashCommand.usage[$0] } + [
        "//text — send a message that starts with /",
        "",
        "Alt-1…9 go to tab · Ctrl-N / Ctrl-P next / previous tab · Alt-A next tab with unread",
        "PgUp / PgDn scroll · Home / End (on an empty line) top / bottom · -MORE(N)- in the status line: N rows below",
        "Tab complete commands, names, files · Up / Down input history",
        "Ctrl-A / Ctrl-E start / end · Ctrl-U / Ctrl-K cut before / after · Ctrl-W cut word · Ctrl-Y paste cut",
        "F2 users pane (Enter opens a chat) · Alt-N hide / show it · F3 files (u upload, Enter/d download, x delete, r refresh)",
        "Esc back / cancel · Ctrl-L redraw · Ctrl-C quit",
        "",
        "Tab bar: 2:bob(3) three unread messages · 2:bob… bob is typing to you",
        "-- new messages -- marks the first unread message of the tab you open",
        "",
        "Up / Down / PgUp / PgDn scroll this help; any other key closes it.",
    ]
}
