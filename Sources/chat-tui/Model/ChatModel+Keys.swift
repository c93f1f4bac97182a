import Shared

/// Keys: the ones that work everywhere, then by focus (input line, users pane; the file view and
/// prompts are in ChatModel+Files.swift).
///
/// Home and End serve both the input line (readline) and the scrollback (top, bottom): they move
/// the cursor when there is text to move in, and scroll when the input line is empty, where they
/// would otherwise do nothing. Ctrl-A and Ctrl-E always move the cursor.
extension ChatModel {
    /// A move of the message pane: PgUp, PgDn, Home, End.
    enum Scroll: Equatable, Sendable { case pageUp, pageDown, top, bottom }

    mutating func press(_ key: Key) -> [ChatEffect] {
        if key != .tab { completion = nil }
        switch key {
        case .ctrl("c"): return [.quit]
        case .ctrl("l"): return [.redraw]
        case .function(1):
            showingHelp.toggle()
            helpOffset = 0
            return []
        default:
            break
        }
        if showingHelp {
            // Up, Down, PgUp, PgDn, Home, End scroll a help taller than the pane. Any other key
            // closes it and does nothing else: a key meant for the help must not land in the chat
            // behind it.
            if let delta = key.listMovement(page: listPage, rows: HelpText.lines.count * 4) {
                helpOffset = max(0, min(helpOffset + delta, helpScrollLimit))
            } else {
                showingHelp = false
            }
            return []
        }
        if prompt != nil { return pressInPrompt(key) }

        switch key {
        case .alt(let digit) where digit.wholeNumberValue.map({ (1...9).contains($0) }) == true:
            let index = digit.wholeNumberValue! - 1
            if tabs.indices.contains(index) { activateTab(index) }
            return []
        case .ctrl("n"):
            activateTab((activeTab + 1) % tabs.count)
            return []
        case .ctrl("p"):
            activateTab((activeTab + tabs.count - 1) % tabs.count)
            return []
        case .alt("a"):
            activateNextUnread()
            return []
        case .alt("n"):
            toggleUsersPane()
            return []
        case .function(2):
            focus = focus == .users ? .input : .users
            if focus == .users && users.selectedIndex == nil { users.moveSelection(by: 0) }
            return []
        case .function(3):
            return toggleFileView()
        default:
            break
        }

        switch focus {
        case .input: return pressInInput(key)
        case .users: return pressInUsers(key)
        case .files: return pressInFiles(key)
        }
    }

    private mutating func pressInInput(_ key: Key) -> [ChatEffect] {
        switch key {
        case .enter: return submit()
        case .tab: return complete()
        case .pageUp: return scroll(.pageUp)
        case .pageDown: return scroll(.pageDown)
        case .home where input.isEmpty: return scroll(.top)
        case .end where input.isEmpty: return scroll(.bottom)
        case .escape:
            status = nil
            return []
        default:
            let before = input.characters
            guard input.handle(key), input.characters != before else { return [] }
            return typingNotice()
        }
    }

    /// The help wrapped to the width it is drawn at (the whole terminal), so that nothing is cut.
    var helpLines: [String] {
        let width = max(2, layout.columns - 2)
        return HelpText.lines.flatMap { line -> [String] in
            let hang = line.hasPrefix("/") ? 4 : 2
            let rows = MessageLayout.wrap(line, first: width, rest: width - hang)
            return rows.enumerated().map { $0 == 0 ? $1 : String(repeating: " ", count: hang) + $1 }
        }
    }

    /// Rows the help can scroll: all of it but the pane's last row, which says there is more.
    var helpScrollLimit: Int {
        let lines = helpLines.count
        return lines <= layout.messagePaneHeight ? 0 : lines - (layout.messagePaneHeight - 1)
    }

    /// `/nicklist`, Alt-N: the users pane hidden or shown again.
    mutating func toggleUsersPane() {
        layout.usersPaneHidden.toggle()
        if layout.usersPaneHidden && focus == .users { focus = .input }
        clampScrollOffsets()
        status = .info(layout.usersPaneHidden ? "users pane hidden (Alt-N or /nicklist shows it)" : "users pane shown")
    }

    /// Rows Page Up and Page Down move in the users and files lists: a screenful less one.
    var listPage: Int { max(1, layout.messagePaneHeight - 1) }

    private mutating func pressInUsers(_ key: Key) -> [ChatEffect] {
        if let delta = key.listMovement(page: listPage, rows: users.users.count) {
            users.moveSelection(by: delta)
            return []
        }
        switch key {
        case .enter:
            guard let name = users.selectedName else { return [] }
            guard !isMe(name) else {
                status = .error("that is you: pick someone else to talk to")
                return []
            }
            focus = .input
            return openTab(.direct(name), activate: true)
        case .escape, .tab:
            focus = .input
        case .character, .paste:
            // Typing goes to the input line: nobody means to type into a list.
            focus = .input
            return pressInInput(key)
        default:
            break
        }
        return []
    }

    /// Scrolls the active tab by wrapped lines. Reaching the top of what is held asks the server
    /// for older messages.
    mutating func scroll(_ action: Scroll) -> [ChatEffect] {
        let height = layout.messagePaneHeight
        let total = paneLineCount(activeTab)
        let top = max(0, total - height)
        let step = max(1, height - 1)
        var offset = min(activeChat.scrollOffset, top)
        switch action {
        case .pageUp: offset = min(top, offset + step)
        case .pageDown: offset = max(0, offset - step)
        case .top: offset = top
        case .bottom:
            offset = 0
            // Back at the newest: the divider has served.
            tabs[activeTab].newMessagesFrom = nil
        }
        tabs[activeTab].scrollOffset = offset
        trimIfFollowing(activeTab)
        if offset == top && (action == .pageUp || action == .top) {
            return requestOlder(activeTab)
        }
        return []
    }

    private mutating func complete() -> [ChatEffect] {
        if var cycle = completion, cycle.continues(in: input) {
            cycle.advance()
            cycle.apply(to: &input)
            completion = cycle
            return []
        }
        let sources = Completion.Sources(
            users: users.names,
            files: files.files.map(\.name),
            ownFiles: files.files.filter { isMe($0.owner) }.map(\.name),
            me: me)
        guard var cycle = Completion.start(line: input.characters, cursor: input.cursor, sources: sources) else {
            completion = nil
            return [.bell]
        }
        cycle.apply(to: &input)
        completion = cycle
        if cycle.candidates.count > 1 {
            status = .info(cycle.candidates.map { $0.trimmingTrailingWhitespace() }.joined(separator: "  "))
        }
        return []
    }

    /// A `typing` notice for a direct chat while the user types a message in it, at most every
    /// few seconds.
    private mutating func typingNotice() -> [ChatEffect] {
        guard connection.isOnline, case .direct(let name) = activeChat.chat,
              !input.isEmpty, !SlashCommand.isCommand(input.text),
              activeChat.typingCooldown == 0
        else { return [] }
        tabs[activeTab].typingCooldown = Self.typingNoticeInterval
        return [.send(.typing(to: name))]
    }
}
