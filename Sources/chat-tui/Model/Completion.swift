/// Tab completion of the chat input: commands at the start of a line, user names after `/msg` and
/// `/query` or anywhere in a message, file names after `/download` and `/delete`. Repeated Tab
/// cycles through the matches (irssi's way: the line always holds a real candidate, never a
/// partial common prefix).
///
/// Local paths, in the upload and download prompts, need the file system: they are completed by the
/// Net layer through ``ChatEffect/completePath(_:)``, not here.
struct Completion: Equatable, Sendable {
    /// Where the replaced text starts in the line.
    let start: Int
    /// Full replacements for the text from `start` to the cursor, each with what follows it
    /// (a space, or `: ` after a name that starts the line, IRC style).
    let candidates: [String]
    private(set) var index = 0
    /// The line and cursor right after the last insertion: another Tab continues the cycle only if
    /// nothing changed since.
    private(set) var lineAfter: [Character] = []
    private(set) var cursorAfter = 0

    /// What the names to complete from are.
    struct Sources {
        /// In the users pane's order: online people first.
        var users: [String]
        /// Files the user may download.
        var files: [String]
        /// The subset the user may delete: their own.
        var ownFiles: [String]
        /// Never offered as a name to address.
        var me: String?
    }

    /// The completions at the cursor, or `nil` when there is nothing to complete.
    static func start(line: [Character], cursor: Int, sources: Sources) -> Completion? {
        let beforeCursor = String(line[0..<cursor])
        let lowered = beforeCursor.lowercased()

        // File names: the whole rest of the line is the argument (names may contain spaces).
        for (command, pool, quote) in [("/download ", sources.files, true), ("/delete ", sources.ownFiles, false)]
        where lowered.hasPrefix(command) {
            let argumentStart = command.count + beforeCursor.dropFirst(command.count).prefix(while: { $0 == " " }).count
            var partial = String(line[argumentStart..<cursor])
            if quote {
                // Past the first argument of /download: that is the local destination, not a name.
                if partial.hasPrefix("\"") {
                    partial.removeFirst()
                    if partial.contains("\"") { return nil }
                } else if partial.contains(where: \.isWhitespace) {
                    return nil
                }
            }
            let matches = pool.filter { $0.lowercased().hasPrefix(partial.lowercased()) }
            let candidates = matches.map { quote ? SlashCommand.quotedIfNeeded($0) + " " : $0 }
            return candidates.isEmpty ? nil : Completion(start: argumentStart, candidates: candidates)
        }

        var wordStart = cursor
        while wordStart > 0 && !line[wordStart - 1].isWhitespace { wordStart -= 1 }
        let word = String(line[wordStart..<cursor])
        let before = String(line[0..<wordStart])

        if wordStart == 0 && word.hasPrefix("/") {
            let partial = word.dropFirst().lowercased()
            let candidates = SlashCommand.names.filter { $0.hasPrefix(partial) }.map { "/\($0) " }
            return candidates.isEmpty ? nil : Completion(start: 0, candidates: candidates)
        }

        let people = sources.users.filter { name in
            guard let me = sources.me else { return true }
            return name.lowercased() != me.lowercased()
        }
        let words = before.split(whereSeparator: \.isWhitespace)
        if let first = words.first, ["/msg", "/query"].contains(first.lowercased()) {
            guard words.count == 1 else { return nil }  // past the user: the message text
            let candidates = people.filter { $0.lowercased().hasPrefix(word.lowercased()) }.map { $0 + " " }
            return candidates.isEmpty ? nil : Completion(start: wordStart, candidates: candidates)
        }
        if before.hasPrefix("/") { return nil }

        // A name inside a message; `@` in front stays.
        let at = word.hasPrefix("@") ? "@" : ""
        let partial = word.dropFirst(at.count).lowercased()
        guard !partial.isEmpty else { return nil }
        let suffix = wordStart == 0 ? ": " : " "
        let candidates = people.filter { $0.lowercased().hasPrefix(partial) }.map { at + $0 + suffix }
        return candidates.isEmpty ? nil : Completion(start: wordStart, candidates: candidates)
    }

    init(start: Int, candidates: [String]) {
        self.start = start
        self.candidates = candidates
    }

    var current: String { candidates[index] }

    /// Whether another Tab on this editor continues this cycle.
    func continues(in editor: LineEditor) -> Bool {
        editor.characters == lineAfter && editor.cursor == cursorAfter
    }

    /// Puts the current candidate into the editor.
    mutating func apply(to editor: inout LineEditor) {
        editor.replaceBeforeCursor(from: start, with: current)
        lineAfter = editor.characters
        cursorAfter = editor.cursor
    }

    /// Moves on to the next candidate, wrapping around.
    mutating func advance() {
        index = (index + 1) % candidates.count
    }
}
