/// Every account, sorted as the user list shows them, with the version of the accounts table it
/// was read at. Each `welcome` lists every account, and reading them all for each of thousands of
/// joining sessions would make a crowd's arrival quadratic in database work; checking the
/// version is one indexed lookup.
///
/// The version is the number of accounts and the highest account id: ids are never reused
/// (`AUTOINCREMENT`), so any account made or deleted, by this server or by the operator from
/// another process (`chatd user add/del`), changes it.
package struct AccountRoster: Sendable {
    package struct Version: Sendable, Equatable {
        package var count: Int
        package var maxID: Int64

        package init(count: Int, maxID: Int64) {
            self.count = count
            self.maxID = maxID
        }
    }

    package let accounts: [Account]
    package let version: Version

    package init(accounts: [Account], version: Version) {
        self.accounts = accounts
        self.version = version
    }
}
