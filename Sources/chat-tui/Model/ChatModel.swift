import Foundation
import Shared

/// The whole state of chat-tui and its one reducer, ``handle(_:)``: an event goes in (a server
/// frame, a key, a connection change, a tick, a file-operation result), the state changes and the
/// effects to perform come out. No I/O and no clock happen here, so every behaviour that is not
/// drawing is tested by feeding events and reading state and effects.
///
/// The Net and Screen layers read the state freely and change it only through ``handle(_:)``; the
/// stored properties are settable only because the reducer is spread over several files by concern
/// (frames, keys, commands, files), which `private(set)` does not allow.
struct ChatModel: Sendable {
    enum Focus: Equatable, Sendable {
        /// Keys edit the chat input; the message pane shows the active tab.
        case input
        /// Up/Down/Enter act on the users pane.
        case users
        /// The file view replaces the message pane and takes the keys.
        case files
    }

    /// Messages of a history page for a tab's first load and for the scrollback.
    static let pageSize = 100
    /// Messages of a catch-up page after a reconnect: the most one `history` answer may hold.
    static let catchUpPageSize = ProtocolLimits.historyLimitRange.upperBound
    /// Seconds between two `typing` notices to the same chat while the user keeps typing.
    static let typingNoticeInterval = 3
    /// Seconds a `typing` notice from someone shows, unless their message comes first.
    static let typingShownSeconds = 6
    /// Messages sent and awaiting their echo, beyond which the oldest is forgotten.
    static let unconfirmedLimit = 64

    /// The server's URL, for the status line.
    let server: String
    /// Messages kept per tab while it follows the newest one; older ones are dropped and can be
    /// fetched again by scrolling up. While the user reads older history nothing is dropped, so
    /// that what they are reading does not vanish under them.
    var messageLimit = 2000

    var connection = ConnectionState.connecting(attempt: 1)
    /// The user's name as the server spells it; `nil` before the first `welcome`.
    var me: String?
    var serverVersion: String?
    var limits = ServerLimits(messageChars: ProtocolLimits.defaultMessageChars, fileBytes: 0)
    var users = UserList()
    /// Broadcast first, then the direct chats in the order they were opened.
    var tabs = [ChatTab(chat: .broadcast)]
    var activeTab = 0
    var files = FileList()
    var transfers: [Transfer] = []
    var status: StatusMessage?
    var focus = Focus.input
    var showingHelp = false
    /// Rows of the help scrolled past, when it does not fit the pane.
    var helpOffset = 0
    /// Join and leave lines in the Broadcast tab (`--no-join-lines`, `/joins on|off`).
    var showJoinLines = true
    /// How times and day-change lines are written: the terminal's locale and time zone.
    var clock = MessageClock.current()
    /// A file action's question, shown in place of the input line.
    var prompt: Prompt?
    var input = LineEditor()
    var layout = ScreenLayout(columns: 80, rows: 24)
    var backoff = Backoff()
    /// The newest message id seen in any chat: a `welcome` whose `last_id` is not above it means
    /// nothing was missed while disconnected.
    var lastSeenID: Int64 = 0
    /// `last_id` of the last `welcome`: every chat without unread messages is read up to here.
    var readBaseline: Int64 = 0
    var completion: Completion?
    /// `client_id`s of messages sent with `/msg` to a chat other than the one shown: their echo
    /// says so in the status line, since the message itself appears in a tab the user is not looking at.
    var announced: Set<String> = []
    /// Messages sent and not yet echoed, by `client_id`, with the input line each came from, so that
    /// a refusal can give it back.
    var unconfirmed: [(clientID: String, text: String)] = []
    var nextClientNumber = 1
    var nextTransferID = 1
    let clientIDPrefix: String
    /// Uniform draws from 0...1 for the reconnect jitter.
    let jitter: @Sendable () -> Double
    /// The wall clock, for the time of join and leave lines and the year of day-change lines.
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - clientIDPrefix: makes this process's `client_id`s differ from those of the user's other
    ///     sessions, which see them too.
    ///   - jitter: the random source of the reconnect delays; tests pass a constant.
    init(server: String,
         clientIDPrefix: String = "tui-\(UInt32.random(in: .min ... .max))-",
         jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.server = server
        self.clientIDPrefix = clientIDPrefix
        self.jitter = jitter
        self.now = now
    }

    var activeChat: ChatTab { tabs[activeTab] }

    /// The label in front of the input line: a prompt's question, or the chat input's marker.
    var inputLabel: String { prompt?.label ?? "> " }

    /// The editor the input line shows.
    var visibleEditor: LineEditor { prompt?.editor ?? input }

    /// Whether the message pane shows the active tab right now (not the file view or help).
    var isShowingMessages: Bool {
        focus != .files && !showingHelp
    }

    /// Whether the user can see the newest messages of the active tab right now: the message pane
    /// is shown and scrolled to the bottom. A message arriving then is not counted unread.
    var isViewingActiveTab: Bool {
        isShowingMessages && tabs[activeTab].scrollOffset == 0
    }

    // MARK: the reducer

    mutating func handle(_ event: ChatEvent) -> [ChatEffect] {
        var effects: [ChatEffect]
        switch event {
        case .frame(let frame):
            effects = receive(frame)
        case .key(let key):
            effects = press(key)
        case .connected:
            connection = .online
            effects = []
        case .disconnected(let reason, let willRetry):
            effects = disconnected(reason: reason, willRetry: willRetry)
        case .tick:
            effects = tick()
        case .resize(let columns, let rows):
            layout.columns = max(1, columns)
            layout.rows = max(1, rows)
            clampScrollOffsets()
            effects = []
        case .fileList(let list):
            files.replace(with: list)
            effects = []
        case .transferProgress(let id, let bytes, let total):
            if let index = transfers.firstIndex(where: { $0.id == id }) {
                transfers[index].bytes = bytes
                transfers[index].total = total ?? transfers[index].total
            }
            effects = []
        case .transferFinished(let id, let result):
            transferFinished(id: id, result)
            effects = []
        case .pathCompletions(let partial, let candidates):
            effects = pathCompletions(partial: partial, candidates: candidates)
        case .downloadTargetExists(let id, let path):
            guard let index = transfers.firstIndex(where: { $0.id == id }) else { return [] }
            let transfer = transfers.remove(at: index)
            prompt = Prompt(.confirmOverwrite(name: transfer.name, path: path))
            status = nil
            effects = []
        case .httpError(let message):
            status = .error(message)
            effects = []
        }
        effects += markViewedTabRead()
        fitEditors()
        fitStatus()
        return effects
    }

    // MARK: reading

    /// Sends `read` for the active tab up to the newest message in view, when that is newer than
    /// its marker. Run after every event, so that whatever brings messages into view (a tab switch,
    /// scrolling, leaving the file view, a history answer, a live message) marks them read, and
    /// nothing else does.
    ///
    /// Sent when the messages newly seen include someone else's, or when the tab counts unread
    /// ones, whoever wrote what is in view: after a `welcome` the marker is unknown, and a newest
    /// page holding only the user's own messages (a script posting as them) must still move it,
    /// or the server reports the same unread count forever. Not while the tab's newest page is on
    /// its way: after a reconnect the unread messages are in it, and marking the old ones read
    /// would zero the count before they are even shown.
    mutating func markViewedTabRead() -> [ChatEffect] {
        guard isShowingMessages else { return [] }
        if tabs[activeTab].scrollOffset == 0 { tabs[activeTab].highlighted = false }
        let tab = tabs[activeTab]
        if case .latest? = tab.historyRequest { return [] }
        guard connection.isOnline, let newest = newestMessageInView(), newest > tab.readUpTo else { return [] }
        let unseenFromOthers = tab.messages.messages.reversed()
            .prefix { $0.id > tab.readUpTo }
            .contains { $0.id <= newest && !isMine($0) }
        tabs[activeTab].readUpTo = newest
        guard unseenFromOthers || tab.unread > 0 else { return [] }
        let stillUnread = tab.messages.messages.reversed().prefix { $0.id > newest }.count { !isMine($0) }
        tabs[activeTab].unread = stillUnread
        if stillUnread == 0 { tabs[activeTab].highlighted = false }
        return [.send(.read(chat: tab.chat, upTo: newest))]
    }

    /// The id of the newest message the message pane shows of the active tab.
    func newestMessageInView() -> Int64? {
        visibleMessageLines().last { $0.messageID != nil }?.messageID
    }

    // MARK: tabs

    func isMine(_ message: ChatMessage) -> Bool {
        isMe(message.from)
    }

    func isMe(_ name: String) -> Bool {
        guard let me else { return false }
        return Username.canonicalKey(me) == Username.canonicalKey(name)
    }

    /// The chat a message belongs to, seen from this user: a direct message is filed under the other person.
    func chat(of message: ChatMessage) -> ChatRef {
        guard let to = message.to else { return .broadcast }
        return .direct(isMine(message) ? to : message.from)
    }

    func tabIndex(for chat: ChatRef) -> Int? {
        switch chat {
        case .broadcast: 0
        case .direct(let name): tabs.firstIndex { $0.isDirect(with: name) }
        }
    }

    /// Finds or opens the tab of `chat`; a new tab asks for its newest messages.
    mutating func openTab(_ chat: ChatRef, activate: Bool) -> [ChatEffect] {
        var effects: [ChatEffect] = []
        let index: Int
        if let existing = tabIndex(for: chat) {
            index = existing
        } else {
            var chat = chat
            if case .direct(let name) = chat, let known = users.find(name) { chat = .direct(known.name) }
            tabs.append(ChatTab(chat: chat, readUpTo: readBaseline))
            index = tabs.count - 1
            effects += requestLatest(index)
        }
        if activate { activateTab(index) }
        return effects
    }

    mutating func activateTab(_ index: Int) {
        guard tabs.indices.contains(index) else { return }
        if index != activeTab {
            tabs[activeTab].newMessagesFrom = nil
            activeTab = index
            placeNewMessagesDivider()
        }
        if focus == .files { focus = .input }
        showingHelp = false
    }

    /// Puts the `-- new messages --` divider before the first unread message of the active tab, if
    /// it has unread messages, and scrolls so that the view starts there (a line of context above
    /// it) rather than at the bottom, where the first unread ones could be out of sight.
    mutating func placeNewMessagesDivider() {
        let tab = tabs[activeTab]
        guard tab.unread > 0, tab.newMessagesFrom == nil else { return }
        let unreadFromOthers = tab.shownMessages.filter { $0.id > tab.readUpTo && !isMine($0) }
        guard let first = unreadFromOthers.suffix(tab.unread).first else { return }
        tabs[activeTab].newMessagesFrom = first.id
        let items = paneItems(activeTab)
        guard let divider = items.firstIndex(of: .newMessages) else { return }
        let below = MessageLayout.lineCount(items[divider...], width: layout.messagePaneWidth, clock: clock)
        tabs[activeTab].scrollOffset = max(0, below + 1 - layout.messagePaneHeight)
    }

    /// Closes the active direct chat and shows the tab before it. Broadcast stays.
    mutating func closeActiveTab() -> Bool {
        guard activeTab != 0 else {
            status = .error("the Broadcast tab cannot be closed")
            return false
        }
        tabs.remove(at: activeTab)
        activeTab -= 1
        return true
    }

    /// Moves to the next tab, after the active one and wrapping around, that has a highlight, or
    /// failing that unread messages (irssi's and weechat's Alt-A).
    mutating func activateNextUnread() {
        let order = (1..<max(1, tabs.count)).map { (activeTab + $0) % tabs.count }
        if let index = order.first(where: { tabs[$0].highlighted }) ?? order.first(where: { tabs[$0].unread > 0 }) {
            activateTab(index)
        } else {
            status = .info("no unread messages in other tabs")
        }
    }

    // MARK: history

    /// Asks for the newest page of a tab: its first load when it holds nothing, else the catch-up
    /// that pages back until it meets what the tab already holds.
    mutating func requestLatest(_ index: Int) -> [ChatEffect] {
        guard connection.isOnline, tabs[index].historyRequest == nil else { return [] }
        let known = tabs[index].messages.newestID
        tabs[index].historyRequest = .latest(knownNewest: known, fetched: 0)
        let limit = known == nil ? Self.pageSize : Self.catchUpPageSize
        return [.send(.history(chat: tabs[index].chat, before: nil, limit: limit))]
    }

    /// Asks for the page before the oldest message held, once until it is answered.
    mutating func requestOlder(_ index: Int) -> [ChatEffect] {
        let tab = tabs[index]
        guard connection.isOnline, tab.olderAvailable, tab.historyRequest == nil else { return [] }
        guard let oldest = tab.messages.oldestID else { return requestLatest(index) }
        tabs[index].historyRequest = .older
        return [.send(.history(chat: tab.chat, before: oldest, limit: Self.pageSize))]
    }

    /// Adds messages to a tab and returns those it did not hold. A tab scrolled up keeps showing the
    /// same lines (new lines below the window push the offset up); a tab following the newest drops
    /// the oldest beyond ``messageLimit``.
    mutating func insert(_ messages: [ChatMessage], into index: Int) -> [ChatMessage] {
        let previousNewest = tabs[index].messages.newestID
        let added = tabs[index].messages.insert(messages)
        for message in added { lastSeenID = max(lastSeenID, message.id) }
        if tabs[index].scrollOffset > 0, let previousNewest, added.contains(where: { $0.id > previousNewest }) {
            let items = paneItems(index)
            if let last = items.lastIndex(where: { $0.messageID == previousNewest }) {
                let below = MessageLayout.lineCount(items[(last + 1)...], width: layout.messagePaneWidth, clock: clock)
                // Before: the rows after that message were the notices shown below it, if any.
                let noticesBefore = items[(last + 1)...].prefix { if case .notice = $0 { true } else { false } }
                tabs[index].scrollOffset += below - MessageLayout.lineCount(noticesBefore, width: layout.messagePaneWidth, clock: clock)
            }
        }
        trimIfFollowing(index)
        return added
    }

    mutating func trimIfFollowing(_ index: Int) {
        if tabs[index].scrollOffset == 0 && tabs[index].messages.trim(keepingNewest: messageLimit) {
            tabs[index].olderAvailable = true
        }
    }

    // MARK: layout

    mutating func clampScrollOffsets() {
        for index in tabs.indices where tabs[index].scrollOffset > 0 {
            let total = paneLineCount(index)
            tabs[index].scrollOffset = min(tabs[index].scrollOffset, max(0, total - layout.messagePaneHeight))
        }
    }

    /// The entries of a tab's message pane: its messages with the lines between them.
    func paneItems(_ index: Int) -> [PaneItem] {
        let tab = tabs[index]
        return PaneItem.items(messages: Array(tab.shownMessages), notices: showJoinLines ? tab.notices : [],
                              newMessagesFrom: tab.newMessagesFrom, clock: clock, today: clock.day(of: now()))
    }

    /// The rows a tab's message pane holds at the current width.
    func paneLineCount(_ index: Int) -> Int {
        MessageLayout.lineCount(paneItems(index), width: layout.messagePaneWidth, clock: clock)
    }

    /// The status line's text: who and where, the connection, how far the view is scrolled up
    /// (weechat's `-MORE-`), and the last notice or error.
    var statusText: String {
        var text = " \(me ?? "?")@\(server)  [\(connection.label)]"
        if isShowingMessages && activeChat.scrollOffset > 0 {
            text += "  -MORE(\(activeChat.scrollOffset))- End: newest"
        }
        if let status { text += "  \(status.text)" }
        return text
    }

    /// Rows the status takes at most: a long error wraps instead of being cut, up to this many.
    static let statusRowLimit = 3

    /// The status text wrapped to the terminal's width, continuation rows indented by one column;
    /// past ``statusRowLimit`` rows the last one ends in `…`.
    var statusLines: [String] {
        let width = max(1, layout.columns)
        var rows = MessageLayout.wrap(statusText, first: width, rest: width - 1).enumerated().map { $0 == 0 ? $1 : " " + $1 }
        if rows.count > Self.statusRowLimit {
            rows = Array(rows.prefix(Self.statusRowLimit))
            var last = Array(rows[rows.count - 1])
            while !last.isEmpty && TerminalWidth.columns(of: String(last)) + 1 > width { last.removeLast() }
            rows[rows.count - 1] = String(last) + "…"
        }
        return rows
    }

    mutating func fitStatus() {
        let rows = statusLines.count
        if rows != layout.statusRows {
            layout.statusRows = rows
            clampScrollOffsets()
        }
    }

    mutating func fitEditors() {
        let width = max(1, layout.columns - TerminalWidth.columns(of: inputLabel))
        if prompt != nil {
            prompt!.editor.fit(width: width)
        } else {
            input.fit(width: width)
        }
    }

    /// The rows the message pane shows for the active tab, oldest first.
    func visibleMessageLines() -> [MessageLayout.Line] {
        MessageLayout.window(paneItems(activeTab), width: layout.messagePaneWidth,
                             height: layout.messagePaneHeight, offset: activeChat.scrollOffset, clock: clock)
    }
}
