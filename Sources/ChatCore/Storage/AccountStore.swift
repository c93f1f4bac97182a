import Foundation

/// Accounts and login tokens, as every backend stores them. Tokens are stored only as their
/// SHA-256 hash, so a copy of the database does not log anybody in.
package protocol AccountStore: Sendable {
    func credentials(nameKey: String) async throws -> AccountCredentials?

    /// Creates an account whose read markers start at the newest message (PROTOCOL.md §6).
    /// Throws ``AccountStoreError/nameTaken`` when the name (in any case) exists.
    func create(name: String, passwordHash: String, nowMillis: Int64) async throws -> Account

    /// Creates several accounts that share one password hash, as ``create(name:passwordHash:nowMillis:)``
    /// would one by one, but in one transaction: all of them or, on any error, none. Returns them in
    /// the order of `names`. Throws ``AccountStoreError/nameTaken`` when a name (in any case) exists
    /// or comes twice. For making many accounts at once (chat-bench seeds thousands).
    func createMany(names: [String], passwordHash: String, nowMillis: Int64) async throws -> [Account]

    /// Sets a new password and revokes every token of the account.
    func setPassword(nameKey: String, passwordHash: String) async throws -> Account

    /// Removes the account, its tokens and read markers; its messages stay, under the old name.
    func delete(nameKey: String) async throws -> Account

    /// Every account and the version of the table they were read at, in one read.
    func roster() async throws -> AccountRoster

    /// The accounts table's version (see ``AccountRoster``).
    func rosterVersion() async throws -> AccountRoster.Version

    func insertToken(hash: Data, accountID: Int64, nowMillis: Int64, expiresMillis: Int64) async throws

    /// Inserts several tokens made at one time with one end, in one transaction: all or none.
    func insertTokens(_ tokens: [(hash: Data, accountID: Int64)], nowMillis: Int64, expiresMillis: Int64) async throws

    /// The account a token belongs to and the token's end, whatever that end is
    /// (``TokenLifetime`` decides).
    func token(hash: Data) async throws -> (account: Account, endMillis: Int64)?

    /// Moves a token's end (``TokenLifetime/Verdict/extend(toMillis:)``).
    func setTokenEnd(hash: Data, endMillis: Int64) async throws

    func deleteToken(hash: Data) async throws
}

extension AccountStore {
    package func account(nameKey: String) async throws -> Account? {
        try await credentials(nameKey: nameKey)?.account
    }
}

/// An account with the bcrypt hash its password is checked against.
package struct AccountCredentials: Sendable {
    package let account: Account
    package let passwordHash: String

    package init(account: Account, passwordHash: String) {
        self.account = account
        self.passwordHash = passwordHash
    }
}

/// Why an ``AccountStore`` refused a change.
package enum AccountStoreError: Error {
    case nameTaken
    case noSuchAccount
}
