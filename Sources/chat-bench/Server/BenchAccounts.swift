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
        let add = Process()
        add.executableURL = URL(fileURLWithPath: chatdBinary)
        add.arguments = ["user", "add", "benchseed", "--data-dir", dataDirectory.path]
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

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
