import ChatCore
import Foundation
import Hummingbird
import Shared

/// The account and chat endpoints of the HTTP API (PROTOCOL.md §3, all but files).
package struct APIRoutes {
    package let accounts: Accounts
    package let chat: ChatService
    /// What `/healthz` reports besides the listeners being up.
    package let health: StorageHealth
    package let cookie: SessionCookie

    package func register(on router: Router<ChatRequestContext>) {
        router.get("healthz", use: healthz)
        let api = router.group("api")
        api.post("login", use: login)
        let authenticated = api.group().add(middleware: AuthMiddleware(accounts: accounts, cookie: cookie))
        authenticated.post("logout", use: logout)
        authenticated.get("me") { _, context in
            MeResponse(username: try context.requireIdentity.account.name)
        }
        authenticated.get("users") { _, _ in
            UsersResponse(users: try await chat.userList())
        }
        authenticated.get("history", use: history)
    }

    /// `200 ok`, or `503` with the reason while writes are refused for lack of space, so a
    /// monitor sees a full disk before the users do (PROTOCOL.md §7.7).
    @Sendable package func healthz(request: Request, context: ChatRequestContext) async throws -> Response {
        switch health.status() {
        case .ok:
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case .full(let since, let place):
            let text = "storage full: no space left on \(place) since \(Timestamp.rfc3339(millis: since)); messages and uploads are refused\n"
            return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    @Sendable package func login(request: Request, context: ChatRequestContext) async throws -> Response {
        // Login sets a cookie, so a foreign page must not be able to log a browser in either.
        if case .foreign(let origin) = OriginPolicy.check(request.headers, authority: request.head.authority) {
            throw APIError.forbidden("cross-site request refused: origin \(origin) is not this server")
        }
        // Refused on the declared length alone: waiting for a body that large would hold the
        // connection for as long as the client cares to dribble it.
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > context.maxUploadSize {
            throw APIError(status: .contentTooLarge, code: .tooLarge, message: "request body over \(context.maxUploadSize / 1024) KiB",
                           headers: [.connection: "close"])
        }
        let body = try await request.decode(as: LoginRequest.self, context: context)
        let result: Accounts.LoginResult
        do {
            result = try await accounts.login(username: body.username, password: body.password, address: context.clientAddress,
                                              register: body.register ?? true)
        } catch .invalidCredentials {
            throw APIError.unauthorized("wrong username or password")
        } catch .noAccount {
            throw APIError(status: .unauthorized, code: .noAccount,
                           message: "no account '\(body.username)'; log in with \"register\": true to create it")
        } catch .locked(let seconds) {
            throw APIError(status: .tooManyRequests, code: .rateLimited,
                           message: "too many failed logins; try again in \(seconds) s", headers: [.retryAfter: "\(seconds)"])
        } catch .rejected(let error) {
            throw APIError(error)
        }
        var response = try JSONResponse.make(LoginResponse(token: result.token, username: result.account.name, created: result.created))
        response.headers[.setCookie] = cookie.set(result.token)
        return response
    }

    @Sendable package func logout(request: Request, context: ChatRequestContext) async throws -> Response {
        let identity = try context.requireIdentity
        try await accounts.logout(identity)
        chat.closeSessions(tokenHash: identity.tokenHash)
        return Response(status: .noContent, headers: [.setCookie: cookie.cleared()])
    }

    @Sendable package func history(request: Request, context: ChatRequestContext) async throws -> HistoryResponse {
        let identity = try context.requireIdentity
        let query = request.uri.queryParameters
        guard let chatName = query["chat"].map(String.init), !chatName.isEmpty else {
            throw APIError.badRequest("missing query parameter 'chat'")
        }
        // A query value that is not a number is refused as out of range, with the same words.
        let before = try ProtocolLimits.historyBefore(query["before"].map { Int64($0) ?? 0 }).mapError(APIError.init).get()
        let limit = try ProtocolLimits.historyLimit(query["limit"].map { Int64($0) ?? 0 }).mapError(APIError.init).get()
        let page: ServerFrame.History
        do {
            page = try await chat.history(ChatRef(wire: chatName), for: identity.account, before: before, limit: limit)
        } catch let rejection as FrameRejection {
            throw APIError(rejection.error)
        }
        return HistoryResponse(chat: page.chat, messages: page.messages, hasMore: page.hasMore)
    }

    package init(accounts: Accounts, chat: ChatService, health: StorageHealth, cookie: SessionCookie) {
        self.accounts = accounts
        self.chat = chat
        self.health = health
        self.cookie = cookie
    }
}

extension MeResponse: ResponseEncodable {}
extension UsersResponse: ResponseEncodable {}
extension HistoryResponse: ResponseEncodable {}

/// JSON responses with an explicit status, for handlers that also set headers.
package enum JSONResponse {
    package static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
