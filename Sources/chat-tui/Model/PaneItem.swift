import Foundation
import Shared

/// One entry of the message pane before it is wrapped into rows: a message, or one of the lines
/// the client adds between messages to help reading them (the day changed, the unread ones start
/// here, someone came or went). The pane is the list of these that ``items(messages:notices:newMessagesFrom:clock:today:)``
/// builds from a tab, so that the screen and the scrollback count exactly the same rows.
enum PaneItem: Equatable, Sendable {
    /// `continued`: the same sender wrote the message before, within ``groupSeconds`` and on the
    /// same day, so the name is not repeated (weechat's grouping).
    case message(ChatMessage, continued: Bool)
    /// `-- Monday 7 December --` before the first message of a new local day.
    case dayChange(String)
    /// `-- new messages --` before the first unread message of a tab the user has just opened.
    case newMessages
    /// A join or leave line (`info` frames), at the local time it arrived.
    case notice(String, at: Date)

    /// Messages of one sender closer than this share their name.
    static let groupSeconds = 5 * 60

    /// The message's id, for items that are one.
    var messageID: Int64? {
        if case .message(let message, _) = self { message.id } else { nil }
    }

    /// The pane's entries, oldest first.
    /// - Parameters:
    ///   - notices: join and leave lines, each shown after the message `afterID` (the newest one
    ///     held when it came).
    ///   - newMessagesFrom: the first unread message, which gets the divider before it.
    ///   - today: the local day number of now, so that the year is written only for other years.
    static func items(messages: [ChatMessage], notices: [ChatTab.Notice] = [], newMessagesFrom: Int64? = nil,
                      clock: MessageClock, today: Int) -> [PaneItem] {
        var items: [PaneItem] = []
        items.reserveCapacity(messages.count + notices.count)
        var previousDay: Int?
        var previous: (from: String, epoch: Int)?
        var noticeIndex = 0

        func dayLine(for day: Int?) {
            guard let day else { return }
            if let previousDay, previousDay != day {
                items.append(.dayChange(clock.dayName(day, today: today)))
                previous = nil
            }
            previousDay = day
        }

        func noticesUpTo(_ id: Int64) {
            while noticeIndex < notices.count, notices[noticeIndex].afterID < id {
                let notice = notices[noticeIndex]
                dayLine(for: clock.day(of: notice.date))
                items.append(.notice(notice.text, at: notice.date))
                previous = nil
                noticeIndex += 1
            }
        }

        for message in messages {
            noticesUpTo(message.id)
            let epoch = MessageClock.epoch(message.ts)
            dayLine(for: epoch.map { MessageClock.floorDiv(clock.local($0), 86_400) })
            if message.id == newMessagesFrom {
                items.append(.newMessages)
                previous = nil
            }
            let sameSender = previous.map { Username.canonicalKey($0.from) == Username.canonicalKey(message.from) } ?? false
            let close = previous.flatMap { previous in epoch.map { $0 - previous.epoch < groupSeconds } } ?? false
            let action = MessageLayout.action(of: message) != nil
            items.append(.message(message, continued: sameSender && close && !action))
            previous = action ? nil : epoch.map { (from: message.from, epoch: $0) }
        }
        noticesUpTo(.max)
        return items
    }
}
