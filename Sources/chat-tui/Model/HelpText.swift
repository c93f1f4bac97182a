/// What `/help` and F1 show: every command and key, one per line.
enum HelpText {
    static let lines: [String] = SlashCommand.names.compactMap { SlashCommand.usage[$0] } + [
        "//text — send a message that starts with /",
        "",
        "Alt-1…9 go to tab · Ctrl-N / Ctrl-P next / previous tab · Alt-A next tab with unread",
        "PgUp / PgDn scroll · Home / End (on an empty line) top / bottom",
        "Tab complete commands, names, files · Up / Down input history",
        "Ctrl-A / Ctrl-E start / end · Ctrl-U / Ctrl-K cut before / after · Ctrl-W cut word · Ctrl-Y paste cut",
        "F2 users pane (Enter opens a chat) · F3 files (u upload, Enter/d download, x delete, r refresh)",
        "Esc back / cancel · Ctrl-L redraw · Ctrl-C quit",
        "",
        "Any key closes this help.",
    ]
}
