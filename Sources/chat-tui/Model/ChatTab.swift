import Foundation
import Shared

/// One open conversation: the broadcast channel or a direct chat with one user, with what the tab
/// bar and the message pane show of it.
struct ChatTab: Sendable {
    /// An outstanding `history` request of this tab. One at a time: a `history` answer names only
    /// its chat, and the server answers in order, so the answer belongs to the request noted here.
    enum HistoryRequest: Equatable, Sendable {
        /// The newest page: a tab's first load (`knownNewest == nil`) or the catch-up after a
        /// reconnect, which pages back until it meets `knownNewest`, the newest message held before.
        /// `fetched` counts the messages this catch-up has received so far.
        case latest(knownNewest: Int64?, fetched: Int)
        /// Older messages for the scrollback, `before` the oldest one held.
        case older
    }

    /// A join or leave line of the broadcast tab (PROTOCOL.md `info`).
    struct Notice: Equatable, Sendable {
        /// The newest message held when it came: the line shows after that message.
        var afterID: Int64
        var text: String
        var date: Date
    }

    /// Join and leave lines kept per tab; older ones are forgotten.
    static let noticeLimit = 200

    let chat: ChatRef
    var messages = MessageBuffer()
    var notices: [Notice] = []
    /// The first unread message when the user came to this tab: the `-- new messages --` divider
    /// goes before it. Set when the tab is shown with unread messages, cleared when it is left.
    var newMessagesFrom: Int64?
    /// `/clear`: messages up to this id are not shown any more (they stay on the server).
    var clearedUpTo: Int64 = 0
    /// Messages from others not yet read, as the server counts them (PROTOCOL.md "Unread counts").
    var unread = 0
    /// A direct message arrived while this tab was not being looked at.
    var highlighted = false
    /// How many wrapped lines of the message pane are hidden below its bottom edge; 0 follows the
    /// newest message.
    var scrollOffset = 0
    /// The read marker as far as this client knows it: messages up to here count as read.
    var readUpTo: Int64 = 0
    /// Whether the server may hold messages older than the oldest one here. True until a history
    /// answer says otherwise, and again whenever old messages are dropped to bound memory.
    var olderAvailable = true
    var historyRequest: HistoryRequest?
    /// Seconds during which the other user counts as typing, after their `typing` notice.
    var typingSecondsLeft = 0
    /// Seconds before this client may send the next `typing` notice to this chat.
    var typingCooldown = 0

    init(chat: ChatRef, readUpTo: Int64 = 0) {
        self.chat = chat
        self.readUpTo = readUpTo
    }

    var title: String {
        switch chat {
        case .broadcast: "Broadcast"
        case .direct(let name): name
        }
    }

    var isDirect: Bool { chat != .broadcast }

    /// The messages the pane shows: those after a `/clear`.
    var shownMessages: ArraySlice<ChatMessage> {
        let all = messages.messages
        guard clearedUpTo > 0 else { return all[...] }
        return all[(all.firstIndex { $0.id > clearedUpTo } ?? all.endIndex)...]
    }
    var isTyping: Bool { typingSecondsLeft > 0 }

    /// Whether this tab is the conversation with `name` (names are case-insensitive).
    func isDirect(with name: String) -> Bool {
        guard case .direct(let other) = chat else { return false }
        return Username.canonicalKey(other) == Username.canonicalKey(name)
    }
}
