import Crypto
import Foundation
import GRDB
import Shared

/// The accounts a run logs in with, made before chatd starts.
///
/// Logging in thousands of accounts through `POST /api/login` would measure bcrypt (0.2 s each by
/// design), not the chat. So one account is made the way an operator makes it (`chatd user add`,
/// which also creates the schema), and the others are copies of its row with their own names and
/// login tokens written straight into the database, exactly as chatd stores them (only the token's
/// SHA-256). Every account has the password ``password``, so FTP logins work too.
struct BenchAccounts: Sendable {
    static let password = "bench-password-1"

    struct Login: Sendable {
        let name: String
        let token: String
    }

    let logins: [Login]

    /// Creates `count` accounts named `u00000`, `u00001`, … in a fresh data directory.
    static func seed(count: Int, dataDirectory: URL, chatdBinary: String) throws -> BenchAccounts {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try addSeedAccount(chatdBinary: chatdBinary, arguments: ["--data-dir", dataDirectory.path])

        let queue = try DatabaseQueue(path: dataDirectory.appendingPathComponent("chatd.sqlite").path)
        defer { try? queue.close() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let logins = (0..<count).map { Login(name: String(format: "u%05d", $0), token: randomToken()) }
        try queue.write { db in
            let hash = try String.fetchOne(db, sql: "SELECT password_hash FROM accounts WHERE name_key = 'benchseed'") ?? ""
            let account = try db.makeStatement(sql: """
                INSERT INTO accounts (name, name_key, password_hash, created_at, read_base) VALUES (?, ?, ?, ?, 0)
                """)
            let token = try db.makeStatement(sql: "INSERT INTO tokens (hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            for login in logins {
                try account.execute(arguments: [login.name, Username.canonicalKey(login.name), hash, now])
                let tokenHash = Data(SHA256.hash(data: Data(login.token.utf8)))
                try token.execute(arguments: [tokenHash, db.lastInsertedRowID, now, now + 86_400_000])
            }
        }
        return BenchAccounts(logins: logins)
    }

    /// The same for a cluster's PostgreSQL database: `chatd user add --database URL` (which also
    /// migrates the schema), then the copies and their tokens in two statements through `psql`
    /// (chat-bench has no PostgreSQL library), token hashes as `bytea` hex literals.
    static func seed(count: Int, postgres: BenchPostgres, dataDirectory: URL, chatdBinary: String) throws -> BenchAccounts {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try addSeedAccount(chatdBinary: chatdBinary, arguments: ["--data-dir", dataDirectory.path, "--database", postgres.url])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let logins = (0..<count).map { Login(name: String(format: "u%05d", $0), token: randomToken()) }
        guard !logins.isEmpty else { return BenchAccounts(logins: []) }
        // names are u00000…: nothing to quote
        let accounts = logins.map { login -> String in "('\(login.name)','\(Username.canonicalKey(login.name))')" }.joined(separator: ",\n")
        let tokens = logins.map { login -> String in
            let hash = SHA256.hash(data: Data(login.token.utf8)).map { String(format: "%02x", $0) }.joined()
            return "('\\x\(hash)'::bytea,'\(Username.canonicalKey(login.name))')"
        }.joined(separator: ",\n")
        try postgres.psql(sql: """
            BEGIN;
            INSERT INTO accounts (name, name_key, password_hash, created_at, read_base)
            SELECT v.name, v.name_key, seed.password_hash, \(now), (SELECT COALESCE(MAX(id), 0) FROM messages)
            FROM (VALUES
            \(accounts)
            ) AS v(name, name_key), accounts seed WHERE seed.name_key = 'benchseed';
            INSERT INTO tokens (hash, account_id, created_at, expires_at)
            SELECT v.hash, a.id, \(now), \(now + 86_400_000)
            FROM (VALUES
            \(tokens)
            ) AS v(hash, name_key) JOIN accounts a ON a.name_key = v.name_key;
            COMMIT;
            """)
        let made = try postgres.psql(sql: "SELECT count(*) FROM tokens;").trimmingCharacters(in: .whitespacesAndNewlines)
        guard Int(made) == count else { throw BenchError("seeding PostgreSQL made \(made) tokens, not \(count)") }
        return BenchAccounts(logins: logins)
    }

    /// `chatd user add benchseed` with the password on stdin: the bcrypt hash every copy shares.
    private static func addSeedAccount(chatdBinary: String, arguments: [String]) throws {
        let add = Process()
        add.executableURL = URL(fileURLWithPath: chatdBinary)
        add.arguments = ["user", "add", "benchseed"] + arguments
        let input = Pipe()
        add.standardInput = input
        add.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        add.standardError = errors
        try add.run()
        input.fileHandleForWriting.write(Data((password + "\n").utf8))
        try input.fileHandleForWriting.close()
        add.waitUntilExit()
        guard add.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw BenchError("chatd user add failed: \(text)")
        }
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
