import Shared

/// Enter on the input line: a message to the active chat, or a slash command. Whatever is refused
/// leaves the input line as it was, with the reason in the status line, and sends nothing.
extension ChatModel {
    mutating func submit() -> [ChatEffect] {
        let line = input.text
        guard !line.isEmpty else { return [] }
        let effects: [ChatEffect]?
        if SlashCommand.isCommand(line) {
            switch SlashCommand.parse(line, isFileName: { [files] in files.find($0) != nil }) {
            case .failure(let error):
                status = .error(error.message)
                return []
            case .success(let command):
                effects = run(command)
            }
        } else {
            effects = sendMessage(line.hasPrefix("//") ? String(line.dropFirst()) : line, to: activeChat.chat, line: line)
        }
        guard let effects else { return [] }
        input.commit()
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
            return sendMessage(text, to: .direct(name), line: input.text)
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
