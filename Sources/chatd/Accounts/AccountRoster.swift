/// Every account, sorted as the user list shows them, with the version of the accounts table it
/// was read at. Each `welcome` lists every account, and reading them all for each of thousands of
/// joining sessions would make a crowd's arrival quadratic in database work; checking the
/// version is one indexed lookup.
///
/// The version is the number of accounts and the highest account id: ids are never reused
/// (`AUTOINCREMENT`), so any account made or deleted, by this server or by the operator from
/// another process (`chatd user add/del`), changes it.
struct AccountRoster: Sendable {
    struct Version: Sendable, Equatable {
        var count: Int
        var maxID: Int64
    }

    let accounts: [Account]
    let version: Version
}
