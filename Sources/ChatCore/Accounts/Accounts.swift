import Foundation
import Logging
import Shared
import Synchronization

/// Who may log in, and how: registration policy, password checks, lockouts and tokens.
/// Every door (HTTP login, the WebSocket upgrade, FTP later) asks this one type.
package final class Accounts: Sendable {
    package enum Registration: String, Sendable, CaseIterable {
        /// Logging in with an unknown name creates that account.
        case open
        /// Only the operator creates accounts (`chatd user add`).
        case closed
    }

    /// Why a login was refused. Wrong password and unknown name are one case on purpose, but
    /// for ``noAccount``.
    package enum LoginError: Error, Equatable {
        case invalidCredentials
        /// The name has no account and the client asked not to register it. Told apart from
        /// ``invalidCredentials`` only under open registration, where anyone can learn whether a
        /// name exists by trying to register it; closed registration keeps the one generic answer.
        case noAccount
        case locked(retryAfterSeconds: Int)
        case rejected(ProtocolError)
    }

    package struct LoginResult: Sendable {
        package let token: String
        package let account: Account
        package let created: Bool
    }

    /// An authenticated caller: the account and the hash of the token it presented.
    package struct Identity: Sendable, Hashable {
        package let account: Account
        package let tokenHash: Data
        /// Whether presenting the token just moved its end (``TokenLifetime/Verdict/extend(toMillis:)``):
        /// a browser's cookie must then be sent again with the new lifetime.
        package var extended = false

        package init(account: Account, tokenHash: Data, extended: Bool = false) {
            self.account = account
            self.tokenHash = tokenHash
            self.extended = extended
        }
    }

    package let store: any AccountStore
    package let hasher: PasswordHasher
    package let registration: Registration
    package let tokenLifetime: TokenLifetime
    private let loginGuard: any LoginGuard
    private let directory = Mutex(AccountDirectory())
    private let rosterCache = Mutex<AccountRoster?>(nil)
    private let logger: Logger

    package init(store: any AccountStore, hasher: PasswordHasher, registration: Registration, loginGuard: any LoginGuard,
         tokenLifetimeDays: Int = 30, logger: Logger) {
        self.store = store
        self.hasher = hasher
        self.registration = registration
        self.loginGuard = loginGuard
        self.tokenLifetime = TokenLifetime(days: tokenLifetimeDays)
        self.logger = logger
    }

    /// One node's accounts, with lockouts kept in this process.
    package convenience init(store: any AccountStore, hasher: PasswordHasher, registration: Registration, throttle: LoginThrottle,
                     tokenLifetimeDays: Int = 30, logger: Logger) {
        self.init(store: store, hasher: hasher, registration: registration, loginGuard: LocalLoginGuard(throttle),
                  tokenLifetimeDays: tokenLifetimeDays, logger: logger)
    }

    /// Logs in, creating the account first when registration is open, the name is new and the
    /// client did not ask otherwise (`register: false`, PROTOCOL.md §7.7).
    /// - Parameter address: the client's address, for the per-address lockout.
    package func login(username: String, password: String, address: String, register mayRegister: Bool = true) async throws(LoginError) -> LoginResult {
        let key = Username.canonicalKey(username)
        do {
            try await checkLock(key: key, username: username, address: address)
            if let credentials = try await store.credentials(nameKey: key) {
                guard try await hasher.verify(password, against: credentials.passwordHash) else {
                    throw try await failure(key: key, username: username, address: address)
                }
                try await loginGuard.recordSuccess(nameKey: key)
                return LoginResult(token: try await issueToken(for: credentials.account), account: credentials.account, created: false)
            }
            guard registration == .open else {
                try await hasher.verifyDecoy(password)
                throw try await failure(key: key, username: username, address: address)
            }
            guard mayRegister else {
                _ = try await failure(key: key, username: username, address: address)
                throw LoginError.noAccount
            }
            return try await register(username: username, password: password, address: address)
        } catch let error as LoginError {
            throw error
        } catch {
            logger.error("login failed", metadata: ["error": "\(error)"])
            throw .rejected(ProtocolError(.internal, "login failed on the server"))
        }
    }

    /// Checks a name and password without creating an account or a token: for doors that keep
    /// their own session (FTP). Failures count towards the same lockouts as ``login(username:password:address:)``.
    package func verify(username: String, password: String, address: String) async throws(LoginError) -> Account {
        let key = Username.canonicalKey(username)
        do {
            try await checkLock(key: key, username: username, address: address)
            guard let credentials = try await store.credentials(nameKey: key) else {
                try await hasher.verifyDecoy(password)
                throw try await failure(key: key, username: username, address: address)
            }
            guard try await hasher.verify(password, against: credentials.passwordHash) else {
                throw try await failure(key: key, username: username, address: address)
            }
            try await loginGuard.recordSuccess(nameKey: key)
            return credentials.account
        } catch let error as LoginError {
            throw error
        } catch {
            logger.error("login failed", metadata: ["error": "\(error)"])
            throw .rejected(ProtocolError(.internal, "login failed on the server"))
        }
    }

    private func checkLock(key: String, username: String, address: String) async throws {
        if let wait = try await loginGuard.retryAfter(nameKey: key, address: address) {
            logger.notice("login refused: locked", metadata: ["user": "\(username)", "address": "\(address)"])
            throw LoginError.locked(retryAfterSeconds: Int(wait.rounded(.up)))
        }
    }

    /// Counts a failed attempt and returns the error to answer it with.
    private func failure(key: String, username: String, address: String) async throws -> LoginError {
        try await loginGuard.recordFailure(nameKey: key, address: address)
        logger.notice("login failed", metadata: ["user": "\(username)", "address": "\(address)"])
        return .invalidCredentials
    }

    private func register(username: String, password: String, address: String) async throws -> LoginResult {
        if case .failure(let error) = Username.checkRegistrable(username, byOperator: false) {
            throw LoginError.rejected(error)
        }
        if case .failure(let error) = Password.validate(password) {
            throw LoginError.rejected(error)
        }
        let account: Account
        do {
            account = try await store.create(name: username, passwordHash: try await hasher.hash(password), nowMillis: Timestamp.nowMillis())
        } catch AccountStoreError.nameTaken {
            // another login registered the same name a moment ago: log in against that account
            return try await login(username: username, password: password, address: address)
        }
        // A success like any other: a `no_account` answer just before (the client asked first)
        // must not stay counted towards the new account's lockout.
        try await loginGuard.recordSuccess(nameKey: Username.canonicalKey(account.name))
        logger.info("account created", metadata: ["user": "\(account.name)"])
        return LoginResult(token: try await issueToken(for: account), account: account, created: true)
    }

    private func issueToken(for account: Account) async throws -> String {
        let token = SessionToken.generate()
        let now = Timestamp.nowMillis()
        try await store.insertToken(hash: SessionToken.hash(token), accountID: account.id, nowMillis: now,
                                    expiresMillis: tokenLifetime.end(issuedAtMillis: now))
        return token
    }

    /// The identity behind a token, or `nil` if it is unknown, revoked or expired.
    package func authenticate(token: String) async throws -> Identity? {
        guard !token.isEmpty, token.utf8.count <= 256 else { return nil }
        let hash = SessionToken.hash(token)
        guard let (account, end) = try await store.token(hash: hash) else { return nil }
        switch tokenLifetime.verdict(endMillis: end, nowMillis: Timestamp.nowMillis()) {
        case .expired:
            try await store.deleteToken(hash: hash)
            return nil
        case .extend(let newEnd):
            try await store.setTokenEnd(hash: hash, endMillis: newEnd)
            return Identity(account: account, tokenHash: hash, extended: true)
        case .valid:
            return Identity(account: account, tokenHash: hash)
        }
    }

    package func logout(_ identity: Identity) async throws {
        try await store.deleteToken(hash: identity.tokenHash)
    }

    /// Every account, sorted by name case-insensitively, as of `version` (read it with
    /// ``AccountStore/rosterVersion()``); read again only when the version moved.
    package func roster(at version: AccountRoster.Version) async throws -> [Account] {
        if let roster = rosterCache.withLock({ $0 }), roster.version == version {
            return roster.accounts
        }
        let roster = try await store.roster()
        rosterCache.withLock { $0 = roster }
        return roster.accounts
    }

    /// Every account, sorted by name case-insensitively.
    package func roster() async throws -> [Account] {
        try await roster(at: try await store.rosterVersion())
    }

    /// The account with this name if ``AccountDirectory`` resolved it recently: the answer a
    /// direct message can have on the event loop, without the database.
    package func knownAccount(named name: String) -> Account? {
        guard case .success = Username.validate(name) else { return nil }
        let key = Username.canonicalKey(name)
        let now = Self.now()
        return directory.withLock { $0.account(key: key, now: now) }
    }

    /// The account with this name (any case), from ``AccountDirectory`` when resolved recently.
    package func account(named name: String) async throws -> Account? {
        guard case .success = Username.validate(name) else { return nil }
        let key = Username.canonicalKey(name)
        let now = Self.now()
        if let known = directory.withLock({ $0.account(key: key, now: now) }) {
            return known
        }
        guard let account = try await store.account(nameKey: key) else { return nil }
        directory.withLock { $0.remember(account, key: key, now: now) }
        return account
    }

    private static func now() -> Double {
        Double(Timestamp.nowMillis()) / 1000
    }
}
