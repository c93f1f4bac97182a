import Foundation
import Logging
import NIOCore
import Shared
import Synchronization

/// What a chat session can do, independent of the transport: the welcome, and the answer to
/// every client frame. The WebSocket door only moves bytes between a socket and this type.
package final class ChatService: Sendable {
    package struct Limits: Sendable {
        package var messageChars: Int
        package var fileBytes: Int64
        package var outboundQueueBytes: Int

        package init(messageChars: Int, fileBytes: Int64, outboundQueueBytes: Int) {
            self.messageChars = messageChars
            self.fileBytes = fileBytes
            self.outboundQueueBytes = outboundQueueBytes
        }
    }

    let accounts: Accounts
    let hub: ChatHub
    let log: MessageLog
    let messages: any MessageStore
    package let rateLimiter: any MessageRateLimit
    package let limits: Limits
    package let serverVersion: String
    /// The welcome's user list encoded for the roster last read (see ``UserListEncoder``).
    private let userList = Mutex<(version: AccountRoster.Version, template: UserListEncoder.Template)?>(nil)
    private let logger: Logger

    package init(accounts: Accounts, hub: ChatHub, log: MessageLog, messages: any MessageStore, rateLimiter: any MessageRateLimit,
         limits: Limits, serverVersion: String, logger: Logger) {
        self.accounts = accounts
        self.hub = hub
        self.log = log
        self.messages = messages
        self.rateLimiter = rateLimiter
        self.limits = limits
        self.serverVersion = serverVersion
        self.logger = logger
    }

    /// Registers the session and builds its `welcome`. The session is registered first and the
    /// welcome read after, so no message committed in between can be missed; one that arrives
    /// both ways has an id ≤ `last_id` and the transport drops the live copy (``QueuedFrame/messageID``).
    package func open(_ session: ChatSession) async throws -> (frame: WireFrame, lastID: Int64) {
        if hub.attach(session) {
            await hub.settlePresence()
        }
        do {
            let (unread, lastID, version) = try await messages.welcomeCounts(for: session.account)
            let template = try await userListTemplate(at: version)
            let welcome = ServerFrame.Welcome(
                username: session.account.name, users: [], unread: unread, lastID: lastID,
                limits: ServerLimits(messageChars: limits.messageChars, fileBytes: limits.fileBytes), server: serverVersion)
            let users = template.encode(isOnline: hub.presence())
            return (FrameEncoder.welcome(welcome, users: users), lastID)
        } catch {
            hub.detach(session)
            throw error
        }
    }

    private func userListTemplate(at version: AccountRoster.Version) async throws -> UserListEncoder.Template {
        if let cached = userList.withLock({ $0 }), cached.version == version {
            return cached.template
        }
        let template = UserListEncoder.Template(try await accounts.roster(at: version))
        userList.withLock { $0 = (version, template) }
        return template
    }

    package func close(_ session: ChatSession) {
        hub.detach(session)
    }

    /// Every account with its presence, sorted by name case-insensitively.
    package func userList() async throws -> [UserPresence] {
        let roster = try await accounts.roster()
        let isOnline = hub.presence()
        return roster.map { UserPresence(name: $0.name, online: isOnline($0.id)) }
    }

    /// How a door goes on after handing a frame to ``receive(_:from:)``.
    package enum Reception: Sendable {
        /// Answered, or queued for storing, already.
        case done
        /// Needs the database, or room in the message log: run it, and take the session's next
        /// frame only after it, so that a session's requests are answered in order.
        case later(@Sendable () async -> Void)
    }

    /// Takes one text frame from a session on the caller's thread (the socket's event loop),
    /// answering at once what needs no waiting: a message to everyone, or to someone resolved
    /// recently, under a rate limit kept in memory, while the message log has room. That is
    /// nearly every frame; the rest come back as ``Reception/later(_:)``.
    package func receive(_ text: some Collection<UInt8>, from session: ChatSession) -> Reception {
        let frame: ClientFrame
        switch ClientFrame.parse(text, maxMessageChars: limits.messageChars) {
        case .failure(let rejection):
            session.send(FrameEncoder.error(rejection.error, clientID: rejection.clientID))
            return .done
        case .success(let parsed):
            frame = parsed
        }
        switch frame {
        case .broadcast(let text, let clientID):
            return submitNow(MessageDraft(sender: session.account, recipient: nil, body: text, clientID: clientID), frame, from: session)
        case .direct(let to, let text, let clientID):
            if let recipient = accounts.knownAccount(named: to) {
                return submitNow(MessageDraft(sender: session.account, recipient: recipient, body: text, clientID: clientID), frame, from: session)
            }
        default:
            break
        }
        return .later { await self.answer(frame, from: session) }
    }

    private func submitNow(_ draft: MessageDraft, _ frame: ClientFrame, from session: ChatSession) -> Reception {
        guard let allowed = rateLimiter.allowNow(accountID: session.account.id) else {
            return .later { await self.answer(frame, from: session) }
        }
        guard allowed else {
            hub.metrics.rateLimitedFrames.increment()
            session.send(FrameEncoder.error(Self.rateLimited, clientID: draft.clientID))
            return .done
        }
        let entry = MessageLog.Entry(draft: draft, origin: session)
        return log.offer(entry) ? .done : .later { await self.log.append(entry) }
    }

    private static let rateLimited = ProtocolError(.rateLimited, "too many messages; slow down")

    /// Answers one text frame from a session, waiting where it must. Refusals go back to that
    /// session as `error` frames.
    package func handle(text: String, from session: ChatSession) async {
        if case .later(let work) = receive(text.utf8, from: session) {
            await work()
        }
    }

    /// Answers a parsed frame, waiting for the database or the rate limit where needed.
    private func answer(_ frame: ClientFrame, from session: ChatSession) async {
        do {
            try await handle(frame, from: session)
        } catch let rejection as FrameRejection {
            session.send(FrameEncoder.error(rejection.error, clientID: rejection.clientID))
        } catch where log.health.refused(error, writing: "a request") {
            session.send(FrameEncoder.error(ProtocolError.storageFull(refusing: "request")))
        } catch {
            logger.error("request failed", metadata: ["user": "\(session.account.name)", "error": "\(error)"])
            session.send(FrameEncoder.error(ProtocolError(.internal, "the server could not answer this request")))
        }
    }

    private func handle(_ frame: ClientFrame, from session: ChatSession) async throws {
        switch frame {
        case .broadcast(let text, let clientID):
            try await submit(MessageDraft(sender: session.account, recipient: nil, body: text, clientID: clientID), from: session)

        case .direct(let to, let text, let clientID):
            guard let recipient = try await accounts.account(named: to) else {
                throw FrameRejection(ProtocolError(.unknownUser, "no user named '\(to)'"), clientID: clientID)
            }
            try await submit(MessageDraft(sender: session.account, recipient: recipient, body: text, clientID: clientID), from: session)

        case .users:
            session.send(FrameEncoder.encode(.users(try await userList())))

        case .history(let chat, let before, let limit):
            session.send(FrameEncoder.encode(.history(try await history(chat, for: session.account, before: before, limit: limit))))

        case .read(let chat, let upTo):
            let conversation = try await resolve(chat, for: session.account)
            if let marker = try await messages.markRead(account: session.account, chatID: conversation.markerChatID, upTo: upTo) {
                hub.send(FrameEncoder.encode(.read(chat: conversation.wireName, upTo: marker)), toAccount: session.account.id, except: session)
            }

        case .typing(let to):
            guard session.allowTyping(nowMillis: Timestamp.nowMillis()) else { return }
            let notice = FrameEncoder.encode(.typing(from: session.account.name))
            switch ChatRef(wire: to) {
            case .broadcast:
                hub.send(notice, toAllExceptAccount: session.account.id)
            case .direct(let name):
                guard let recipient = try await accounts.account(named: name) else {
                    throw FrameRejection(ProtocolError(.unknownUser, "no user named '\(name)'"))
                }
                hub.send(notice, toAccount: recipient.id)
            }
        }
    }

    private func submit(_ draft: MessageDraft, from session: ChatSession) async throws {
        guard try await rateLimiter.allow(accountID: session.account.id) else {
            hub.metrics.rateLimitedFrames.increment()
            throw FrameRejection(Self.rateLimited, clientID: draft.clientID)
        }
        await log.append(MessageLog.Entry(draft: draft, origin: session))
    }

    /// A page of a chat's history as `account` sees it, the same for the WebSocket and the HTTP
    /// door: at most `limit` messages before `before`, and never more than fits a frame
    /// (``ProtocolLimits/maxHistoryFrameBytes``).
    package func history(_ chat: ChatRef, for account: Account, before: Int64?, limit: Int) async throws -> ServerFrame.History {
        let conversation = try await resolve(chat, for: account)
        let page = try await messages.history(conversation, before: before, limit: limit, maxBytes: ProtocolLimits.maxHistoryFrameBytes)
        return ServerFrame.History(chat: conversation.wireName, messages: page.messages, hasMore: page.hasMore)
    }

    /// Counters the doors add to (frames out, slow-consumer closes).
    package var metrics: ChatMetrics { hub.metrics }

    /// Closes every session opened with a token, once it is logged out.
    package func closeSessions(tokenHash: Data) {
        hub.closeSessions(tokenHash: tokenHash)
    }

    /// The conversation a `chat` field names, from the point of view of `account`.
    package func resolve(_ chat: ChatRef, for account: Account) async throws -> Conversation {
        switch chat {
        case .broadcast:
            return .broadcast
        case .direct(let name):
            guard let other = try await accounts.account(named: name) else {
                throw FrameRejection(ProtocolError(.unknownUser, "no user named '\(name)'"))
            }
            return .direct(me: account, other: other)
        }
    }
}
