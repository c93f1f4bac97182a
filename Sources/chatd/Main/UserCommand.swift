import ArgumentParser
import ChatCore
import ChatStoreSQLite
import Foundation
import Logging
import Shared

/// `chatd user add|passwd|del|list`: account administration on the data directory's SQLite
/// database or the cluster's PostgreSQL one, safe to run while servers are running (the
/// database serialises the writes).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage accounts: add, passwd, del, list.",
        subcommands: [Add.self, Passwd.self, Del.self, List.self])

    struct Location: ParsableArguments {
        @Option(help: "Data directory (CHATD_DATA_DIR). Default: ./data")
        var dataDir: String?

        @Option(help: "sqlite, or the cluster's postgres:// URL (CHATD_DATABASE). Default: sqlite")
        var database: String?

        @Option(help: Setting.bcryptCost.help("bcrypt cost for the new password hash, 10-16, as chatd serve's"))
        var bcryptCost: String?

        /// `--bcrypt-cost`, else `CHATD_BCRYPT_COST`, else the server's default: the operator's
        /// hashes are as slow to guess as those chatd makes.
        func cost() throws -> Int {
            let environment = ProcessInfo.processInfo.environment
            guard let text = bcryptCost ?? environment[Setting.bcryptCost.environmentVariable] else { return ServerConfig().bcryptCost }
            do {
                return try OptionParsing.positiveInt(text, option: Setting.bcryptCost.flag, range: 10...16)
            } catch {
                throw UserError("\(error)")
            }
        }

        /// The operator's account commands on the configured database.
        func withAdministration<T>(creating: Bool = false, _ body: (AccountAdministration) async throws -> T) async throws -> T {
            let cost = try cost()
            return try await withStore(creating: creating) { store in
                do {
                    return try await body(AccountAdministration(store: store, bcryptCost: cost))
                } catch let refusal as AccountAdministration.Refusal {
                    throw UserError(refusal.description)
                }
            }
        }

        /// Runs `body` with the accounts of the configured database, closing it afterwards.
        ///
        /// A mistyped `--data-dir` must not quietly become a new, empty database: the directory
        /// must exist, and only `add` (`creating`) may start a database in it, as an operator
        /// setting up closed registration before the first start would.
        func withStore<T>(creating: Bool = false, _ body: (any AccountStore) async throws -> T) async throws -> T {
            let environment = ProcessInfo.processInfo.environment
            let directory = dataDir ?? environment["CHATD_DATA_DIR"] ?? "./data"
            let logger = Logger(label: "chatd.user", factory: { _ in SwiftLogNoOpLogHandler() })
            let storage: ChatStorage
            do {
                let location = try DatabaseLocation(parsing: database ?? environment["CHATD_DATABASE"] ?? "sqlite", option: "--database")
                if location == .sqlite {
                    do {
                        _ = try ExistingDataDirectory.database(in: directory, mayCreateDatabase: creating)
                    } catch {
                        throw UserError(error.description)
                    }
                }
                storage = try await ChatStorage.open(location, dataDirectory: directory, logger: logger)
            } catch let error as UserError {
                throw error
            } catch {
                throw UserError("\(error)")
            }
            defer { storage.close(logger: logger) }
            return try await body(storage.accounts)
        }
    }

    struct UserError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account; the password is read from stdin or prompted for.")
        @Argument(help: "The account name.") var name: String
        @OptionGroup var location: Location

        func run() async throws {
            try await UserCommand.report {
                do throws(AccountAdministration.Refusal) {
                    try AccountAdministration.checkNewName(name)
                } catch {
                    throw UserError(error.description)
                }
                let password = try UserCommand.readPassword(prompt: "Password for \(name): ")
                let account = try await location.withAdministration(creating: true) { try await $0.add(name: name, password: password) }
                print("created \(account.name)")
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password and log the account out everywhere.")
        @Argument(help: "The account name.") var name: String
        @OptionGroup var location: Location

        func run() async throws {
            try await UserCommand.report {
                try await location.withAdministration { accounts in
                    _ = try await accounts.existing(name)
                    let password = try UserCommand.readPassword(prompt: "New password for \(name): ")
                    let account = try await accounts.setPassword(name: name, password: password)
                    print("password changed for \(account.name); its tokens were revoked")
                }
            }
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an account and its tokens; its messages stay, under its old name.")
        @Argument(help: "The account name.") var name: String
        @OptionGroup var location: Location

        func run() async throws {
            try await UserCommand.report {
                try await location.withAdministration { accounts in
                    let account = try await accounts.delete(name: name)
                    print("deleted \(account.name)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts, one name per line.")
        @OptionGroup var location: Location

        func run() async throws {
            try await UserCommand.report {
                try await location.withStore { store in
                    for account in try await store.roster().accounts {
                        print(account.name)
                    }
                }
            }
        }
    }

    /// Runs an action, turning any failure into one line on stderr and exit status 1.
    static func report(_ action: () async throws -> Void) async throws {
        do {
            try await action()
        } catch let error as UserError {
            FileHandle.standardError.write(Data("chatd user: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The password: prompted without echo on a terminal, else the first line of stdin.
    static func readPassword(prompt: String) throws -> String {
        let password: String
        if isatty(STDIN_FILENO) != 0 {
            guard let raw = getpass(prompt) else { throw UserError("no password given") }
            password = String(cString: raw)
        } else {
            guard let line = readLine(strippingNewline: true) else { throw UserError("no password on standard input") }
            password = line
        }
        do throws(AccountAdministration.Refusal) {
            try AccountAdministration.checkPassword(password)
        } catch {
            throw UserError(error.description)
        }
        return password
    }
}
