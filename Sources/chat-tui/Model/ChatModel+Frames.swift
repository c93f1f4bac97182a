import Foundation
import Shared

/// Frames from the server, the connection's ups and downs, and the clock.
extension ChatModel {
    mutating func receive(_ frame: ServerFrame) -> [ChatEffect] {
        switch frame {
        case .welcome(let welcome):
            return receiveWelcome(welcome)
        case .message(let message):
            return receiveMessage(message)
        case .info(let info):
            users.setOnline(info.user, info.event == .join)
            addJoinLine(info)
            return []
        case .users(let list):
            users.replace(with: list)
            return []
        case .history(let history):
            return receiveHistory(history)
        case .read(let chat, let upTo):
            readElsewhere(ChatRef(wire: chat), upTo: upTo)
            return []
        case .typing(let from):
            if !isMe(from), let index = tabIndex(for: .direct(from)) {
                tabs[index].typingSecondsLeft = Self.typingShownSeconds
            }
            return []
        case .file(let event):
            files.apply(event)
            // The server's event is the answer to our own delete: the pending notice becomes the result.
            if event.event == .deleted, isMe(event.by), status == .info("deleting \(event.file.name)…") {
                status = .info("deleted \(event.file.name)")
            }
            return []
        case .error(let code, let message, let clientID):
            if code == .unknownUser && clientID == nil {
                // A `history` of a direct chat whose account is gone: no answer will come, and a
                // request left pending would block that tab's reads and scrollback.
                for index in tabs.indices where tabs[index].isDirect { tabs[index].historyRequest = nil }
            }
            refused(message, clientID: clientID)
            return []
        }
    }

    /// The first frame of every session, the first one and each one after a reconnect. The server's
    /// unread counts replace the local ones; direct chats with unread messages get a tab; every tab
    /// loads or catches up on its newest messages, unless nothing at all happened since the last
    /// message seen.
    private mutating func receiveWelcome(_ welcome: ServerFrame.Welcome) -> [ChatEffect] {
        me = welcome.username
        serverVersion = welcome.server
        limits = welcome.limits
        users.replace(with: welcome.users)
        connection = .online
        // Reset here rather than on `.connected`: a server that accepts and at once drops the
        // connection should still be retried more and more slowly.
        backoff.reset()
        readBaseline = welcome.lastID

        for index in tabs.indices { tabs[index].unread = 0 }
        for (wire, count) in welcome.unread.sorted(by: { $0.key < $1.key }) where count > 0 {
            let chat = ChatRef(wire: wire)
            if tabIndex(for: chat) == nil {
                var resolved = chat
                if case .direct(let name) = chat, let known = users.find(name) { resolved = .direct(known.name) }
                tabs.append(ChatTab(chat: resolved))
            }
            tabs[tabIndex(for: chat)!].unread = count
        }

        var effects: [ChatEffect] = [.fetchFiles]
        let missedSomething = welcome.lastID > lastSeenID
        for index in tabs.indices {
            let tab = tabs[index]
            tabs[index].historyRequest = nil
            if tab.unread == 0 {
                tabs[index].readUpTo = max(tab.readUpTo, welcome.lastID)
            } else {
                // The marker is somewhere below the unread messages; a `read` sent before the
                // disconnect may have been lost, so the next view must send one again.
                tabs[index].readUpTo = 0
                if tab.isDirect { tabs[index].highlighted = true }
            }
            if tab.messages.isEmpty || missedSomething {
                effects += requestLatest(index)
            }
        }
        return effects
    }

    private mutating func receiveMessage(_ message: ChatMessage) -> [ChatEffect] {
        let chat = chat(of: message)
        var effects = openTab(chat, activate: false)
        guard let index = tabIndex(for: chat) else { return effects }
        let mine = isMine(message)
        if mine, let clientID = message.clientID {
            unconfirmed.removeAll { $0.clientID == clientID }
            if announced.remove(clientID) != nil {
                status = .info("sent to \(tabs[index].title) (tab \(index + 1)\(index < 9 ? ", Alt-\(index + 1)" : ""))")
            }
        }
        if !mine { tabs[index].typingSecondsLeft = 0 }
        let added = insert([message], into: index)
        guard !added.isEmpty, !mine else { return effects }
        if index == activeTab && isViewingActiveTab { return effects }
        tabs[index].unread += 1
        if tabs[index].isDirect {
            tabs[index].highlighted = true
            effects.append(.bell)
        }
        return effects
    }

    private mutating func receiveHistory(_ history: ServerFrame.History) -> [ChatEffect] {
        guard let index = tabIndex(for: ChatRef(wire: history.chat)) else { return [] }
        let request = tabs[index].historyRequest
        tabs[index].historyRequest = nil
        _ = insert(history.messages, into: index)
        if index == activeTab, isShowingMessages, case .latest(nil, _)? = request { placeNewMessagesDivider() }
        switch request {
        case .older?:
            tabs[index].olderAvailable = history.hasMore
        case .latest(let known?, let fetchedBefore)?:
            let fetched = fetchedBefore + history.messages.count
            guard let oldest = history.messages.first?.id, oldest > known, history.hasMore else { return [] }
            // Still no overlap with what the tab held: more was missed than this page.
            if fetched >= messageLimit {
                // Too much to page through: keep the newest, forget the old ones beyond the gap
                // (scrolling up fetches what lies between, in order).
                tabs[index].messages.removeAll(below: oldest)
                tabs[index].olderAvailable = true
                tabs[index].scrollOffset = 0
                return []
            }
            tabs[index].historyRequest = .latest(knownNewest: known, fetched: fetched)
            return [.send(.history(chat: tabs[index].chat, before: oldest, limit: Self.catchUpPageSize))]
        case .latest(nil, _)?:
            tabs[index].olderAvailable = history.hasMore
        case nil:
            break
        }
        return []
    }

    /// A join or leave line in the Broadcast tab, after the newest message it holds; the view of
    /// a user reading older messages stays where it is.
    private mutating func addJoinLine(_ info: ServerFrame.Info) {
        guard !isMe(info.user) else { return }
        let text = info.event == .join ? "--> \(info.user) joined" : "<-- \(info.user) left"
        let notice = ChatTab.Notice(afterID: tabs[0].messages.newestID ?? 0, text: text, date: now())
        tabs[0].notices.append(notice)
        if tabs[0].notices.count > ChatTab.noticeLimit { tabs[0].notices.removeFirst() }
        if showJoinLines && tabs[0].scrollOffset > 0 {
            tabs[0].scrollOffset += MessageLayout.layout(.notice(text, at: notice.date), width: layout.messagePaneWidth,
                                                         clock: clock).count
        }
    }

    /// Another session of this user read `chat` up to `upTo`.
    private mutating func readElsewhere(_ chat: ChatRef, upTo: Int64) {
        guard let index = tabIndex(for: chat), upTo > tabs[index].readUpTo else { return }
        tabs[index].readUpTo = upTo
        tabs[index].unread = tabs[index].messages.messages.count(where: { $0.id > upTo && !isMine($0) })
        if tabs[index].unread == 0 { tabs[index].highlighted = false }
    }

    /// An `error` frame. A refused message of ours comes back into the empty input line so that it
    /// can be sent again (after a rate limit, say) without typing it anew.
    private mutating func refused(_ message: String, clientID: String?) {
        guard let clientID, let index = unconfirmed.firstIndex(where: { $0.clientID == clientID }) else {
            status = .error(message)
            return
        }
        let text = unconfirmed.remove(at: index).text
        if input.isEmpty {
            input.setText(text)
            status = .error("not sent: \(message) (the message is back in the input line)")
        } else {
            status = .error("not sent: \(message)")
        }
    }

    // MARK: connection

    mutating func disconnected(reason: String, willRetry: Bool) -> [ChatEffect] {
        switch connection {
        case .online, .connecting: break
        case .reconnecting, .offline: return []
        }
        for index in tabs.indices {
            tabs[index].historyRequest = nil  // its answer will not come
            tabs[index].typingSecondsLeft = 0
        }
        unconfirmed.removeAll()
        guard willRetry else {
            connection = .offline(reason: reason)
            return []
        }
        // Counted in whole seconds: the countdown on screen is then exact, and a client coming back
        // a fraction of a second earlier or later changes nothing for the server.
        let delay = backoff.nextDelay(jitter: jitter())
        connection = .reconnecting(attempt: backoff.failures + 1,
                                   secondsLeft: max(1, Int(delay.rounded(.up))), reason: reason)
        return []
    }

    mutating func tick() -> [ChatEffect] {
        for index in tabs.indices {
            tabs[index].typingSecondsLeft = max(0, tabs[index].typingSecondsLeft - 1)
            tabs[index].typingCooldown = max(0, tabs[index].typingCooldown - 1)
        }
        guard case .reconnecting(let attempt, let secondsLeft, let reason) = connection else { return [] }
        if secondsLeft > 1 {
            connection = .reconnecting(attempt: attempt, secondsLeft: secondsLeft - 1, reason: reason)
            return []
        }
        connection = .connecting(attempt: attempt)
        return [.connect]
    }
}
