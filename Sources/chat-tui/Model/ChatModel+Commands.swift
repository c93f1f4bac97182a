import Shared

/// Enter on the input line: a message to the active chat, or a slash command.
///
/// A message that cannot go (too long, offline) stays in the input line with the reason in the
/// status line, to be fixed. A command is done with once entered, as in irssi and weechat: a
/// mistyped or refused one shows its error and clears the line, and Up brings it back. An error
/// left in the status line by an earlier command goes once a later one succeeds.
extension ChatModel {
    mutating func submit() -> [ChatEffect] {
        let line = input.text
        guard !line.isEmpty else { return [] }
        let earlier = status
        let effects: [ChatEffect]?
        if SlashCommand.isCommand(line) {
            switch SlashCommand.parse(line, isFileName: { [files] in files.find($0) != nil }) {
            case .failure(let error):
                status = .error(error.message)
                effects = nil
            case .success(let command):
                effects = run(command)
            }
            input.commit()
        } else {
            effects = sendMessage(line.hasPrefix("//") ? String(line.dropFirst()) : line, to: activeChat.chat, line: line)
            if effects != nil { input.commit() }
        }
        guard let effects else { return [] }
        if let earlier, earlier.kind == .error, status == earlier { status = nil }
        return effects
    }

    /// The `send` effect for a message, or `nil` (and the reason in the status line) if it cannot go.
    /// `line` is the input line it came from, given back if the server refuses the message.
    mutating func sendMessage(_ raw: String, to chat: ChatRef, line: String) -> [ChatEffect]? {
        let text: String
        switch MessageText.validate(raw, maxScalars: limits.messageChars) {
        case .failure(let error):
            status = .error(error.message)
            return nil
        case .success(let valid):
            text = valid
        }
        guard connection.isOnline else {
            status = .error("not connected: the message stays in the input line")
            return nil
        }
        let clientID = "\(clientIDPrefix)\(nextClientNumber)"
        nextClientNumber += 1
        unconfirmed.append((clientID: clientID, text: line))
        if unconfirmed.count > Self.unconfirmedLimit { unconfirmed.removeFirst() }
        if let index = tabIndex(for: chat) {
            tabs[index].typingCooldown = 0
            if index == activeTab { tabs[index].scrollOffset = 0 }
        }
        if status?.kind == .error { status = nil }
        switch chat {
        case .broadcast: return [.send(.broadcast(message: text, clientID: clientID))]
        case .direct(let name): return [.send(.direct(to: name, message: text, clientID: clientID))]
        }
    }

    /// Runs a parsed command; `nil` when it was refused.
    mutating func run(_ command: SlashCommand) -> [ChatEffect]? {
        switch command {
        case .msg(let user, let text):
            guard let name = addressable(user) else { return nil }
            guard let effects = sendMessage(text, to: .direct(name), line: input.text) else { return nil }
            if !activeChat.isDirect(with: name), let clientID = unconfirmed.last?.clientID {
                announced.insert(clientID)
                status = .info("sending to \(name)…")
            }
            return effects
        case .me(let action):
            guard let me else {
                status = .error("not logged in yet: /me needs your name from the server")
                return nil
            }
            return sendMessage("* \(me) \(action)", to: activeChat.chat, line: input.text)
        case .clear:
            tabs[activeTab].clearedUpTo = activeChat.messages.newestID ?? 0
            tabs[activeTab].notices = []
            tabs[activeTab].newMessagesFrom = nil
            tabs[activeTab].scrollOffset = 0
            status = .info("cleared \(activeChat.title) on screen (the server keeps its messages)")
            return []
        case .url(let number):
            return showURLs(number)
        case .joins(let on):
            showJoinLines = on ?? !showJoinLines
            clampScrollOffsets()
            status = .info(showJoinLines ? "join and leave lines shown" : "join and leave lines hidden")
            return []
        case .nicklist:
            toggleUsersPane()
            return []
        case .query(let user):
            guard let name = addressable(user) else { return nil }
            return openTab(.direct(name), activate: true)
        case .close:
            return closeActiveTab() ? [] : nil
        case .files:
            focus = .files
            return [.fetchFiles]
        case .upload(nil):
            prompt = Prompt(.uploadPath)
            return []
        case .upload(let path?):
            return startUpload(path)
        case .download(let name, let destination):
            return startDownload(name, to: destination ?? name)
        case .delete(let name):
            return askToDelete(name)
        case .users:
            focus = .users
            if users.selectedIndex == nil { users.moveSelection(by: 0) }
            status = .info("\(users.users.count) users, \(users.onlineCount) online")
            return connection.isOnline ? [.send(.users)] : []
        case .help:
            showingHelp = true
            return []
        case .quit:
            return [.quit]
        }
    }

    /// `/url`: the active chat's links in the status line, numbered newest first; `/url N`: the
    /// Nth alone and whole, to copy (a link wrapped in the message pane is hard to select).
    private mutating func showURLs(_ number: Int?) -> [ChatEffect]? {
        let urls = Self.urls(in: activeChat.shownMessages).reversed().map { $0 }
        guard !urls.isEmpty else {
            status = number == nil ? .info("no links in \(activeChat.title)") : .error("no links in \(activeChat.title)")
            return number == nil ? [] : nil
        }
        guard let number else {
            status = .info("links, newest first (/url N shows one whole): "
                           + urls.enumerated().map { "\($0 + 1) \($1)" }.joined(separator: "  "))
            return []
        }
        guard number <= urls.count else {
            status = .error("\(activeChat.title) has \(urls.count) link\(urls.count == 1 ? "" : "s"): /url 1 to /url \(urls.count)")
            return nil
        }
        status = .info(urls[number - 1])
        return []
    }

    /// The `http://` and `https://` links in messages, oldest first, each once (its newest use
    /// counts), without the punctuation that ends a sentence after them.
    static func urls(in messages: some Sequence<ChatMessage>) -> [String] {
        var found: [String] = []
        for message in messages {
            for word in message.message.split(whereSeparator: { $0.isWhitespace || $0 == "<" || $0 == ">" }) {
                guard let start = word.range(of: "http://") ?? word.range(of: "https://") else { continue }
                var url = word[start.lowerBound...]
                while let last = url.last, ".,;:!?'\")]}".contains(last) {
                    if last == ")" && url.contains("(") { break }
                    url = url.dropLast()
                }
                guard url.count > 8 else { continue }
                found.removeAll { $0 == url }
                found.append(String(url))
            }
        }
        return found
    }

    /// The server's spelling of a user one can write to, or `nil` with the reason in the status line.
    /// Every account is in the list (from `welcome`, kept current by joins), so a name missing from
    /// it does not exist; before the first `welcome` the name is taken as typed.
    private mutating func addressable(_ user: String) -> String? {
        if isMe(user) {
            status = .error("that is you: pick someone else to talk to")
            return nil
        }
        guard !users.users.isEmpty else { return user }
        guard let known = users.find(user) else {
            status = .error("no user named \(user)")
            return nil
        }
        return known.name
    }
}
