import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


/// `--database`: what users write (libpq's URL form) is understood, mistakes are named, and a
/// password never appears in an error or a printed location.
@Suite struct DatabaseLocationTests {
    @Test func sqliteIsTheDefaultSpelling() throws {
        #expect(try DatabaseLocation(parsing: "sqlite", option: "--database") == .sqlite)
        #expect(try DatabaseLocation(parsing: "SQLite", option: "--database") == .sqlite)
    }

    @Test func postgresURLs() throws {
        let full = try DatabaseLocation(parsing: "postgres://chat%40d:s3cr%2Ft@db.example:6543/team?sslmode=require", option: "--database")
        #expect(full == .postgres(.init(host: "db.example", port: 6543, username: "chat@d", password: "s3cr/t", database: "team", tls: .require)))
        let short = try DatabaseLocation(parsing: "postgresql://chatd@127.0.0.1/chat", option: "--database")
        #expect(short == .postgres(.init(host: "127.0.0.1", port: 5432, username: "chatd", password: nil, database: "chat", tls: .prefer)))
        let v6 = try DatabaseLocation(parsing: "postgres://u@[::1]:5433/d?sslmode=disable", option: "--database")
        guard case .postgres(let location) = v6 else { Issue.record("not postgres"); return }
        #expect(location.host == "::1" && location.tls == .disable)
        #expect(location.description == "postgres://u@[::1]:5433/d")
    }

    @Test func mistakesAreNamedWithoutThePassword() {
        let cases: [(String, String)] = [
            ("mysql://u:pw@h/d", "expected sqlite or postgres://"),
            ("postgres://u:pw@/d", "no host"),
            ("postgres://h/d", "no user"),
            ("postgres://u:pw@h", "no database name"),
            ("postgres://u:pw@h/d?sslmode=verify-full", "sslmode must be disable, prefer or require"),
            ("postgres://u:pw@h/d?application_name=x", "unknown parameter 'application_name'"),
            ("./data/chatd.sqlite", "expected sqlite or postgres://"),
        ]
        for (text, expected) in cases {
            do {
                _ = try DatabaseLocation(parsing: text, option: "--database")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.description.hasPrefix("--database: "), "\(error.description)")
                #expect(error.description.contains(expected), "\(text): \(error.description)")
                #expect(!error.description.contains("pw"), "password shown: \(error.description)")
            }
        }
    }
}
