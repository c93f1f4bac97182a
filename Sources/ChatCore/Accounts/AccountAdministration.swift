import Shared

/// What the operator does to accounts (`chatd user add|passwd|del`), under the same rules as
/// everyone else: names and passwords are checked as a registration checks them (the operator
/// may also take a reserved name such as `admin`), passwords are hashed at the server's bcrypt
/// cost, and a name is one account in any case.
package struct AccountAdministration: Sendable {
    /// Why the operator's command was refused, in words for the operator.
    package struct Refusal: Error, CustomStringConvertible, Equatable {
        package let description: String

        package init(_ description: String) {
            self.description = description
        }
    }

    package let store: any AccountStore
    package let hasher: PasswordHasher

    package init(store: any AccountStore, bcryptCost: Int) {
        self.store = store
        self.hasher = PasswordHasher(cost: UInt8(clamping: bcryptCost))
    }

    /// Refuses a name the operator may not create, before a password is asked for.
    package static func checkNewName(_ name: String) throws(Refusal) {
        if case .failure(let error) = Username.checkRegistrable(name, byOperator: true) { throw Refusal(error.message) }
    }

    /// Refuses a password that breaks the rules (8–1024 bytes of UTF-8).
    package static func checkPassword(_ password: String) throws(Refusal) {
        if case .failure(let error) = Password.validate(password) { throw Refusal(error.message) }
    }

    package func add(name: String, password: String) async throws -> Account {
        try Self.checkNewName(name)
        try Self.checkPassword(password)
        let hash = try await hasher.hash(password)
        do {
            return try await store.create(name: name, passwordHash: hash, nowMillis: Timestamp.nowMillis())
        } catch AccountStoreError.nameTaken {
            // Names are one account in any case: say which spelling holds it.
            let stored = try await store.account(nameKey: Username.canonicalKey(name))?.name ?? name
            throw Refusal("an account named '\(stored)' already exists (names are the same in any case)")
        }
    }

    /// The account, or a refusal naming the name as given.
    package func existing(_ name: String) async throws -> Account {
        guard let account = try await store.account(nameKey: Username.canonicalKey(name)) else {
            throw Refusal("no account named '\(name)'")
        }
        return account
    }

    /// Sets a new password; the store revokes the account's tokens with it.
    package func setPassword(name: String, password: String) async throws -> Account {
        try Self.checkPassword(password)
        let hash = try await hasher.hash(password)
        return try await store.setPassword(nameKey: Username.canonicalKey(name), passwordHash: hash)
    }

    package func delete(name: String) async throws -> Account {
        do {
            return try await store.delete(nameKey: Username.canonicalKey(name))
        } catch AccountStoreError.noSuchAccount {
            throw Refusal("no account named '\(name)'")
        }
    }
}
