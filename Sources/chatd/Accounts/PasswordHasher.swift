import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on NIO's blocking thread pool: one hash costs tens of milliseconds of CPU and must
/// never run on an event loop or a cooperative-pool thread.
struct PasswordHasher: Sendable {
    /// bcrypt cost; PROTOCOL.md requires at least 10.
    let cost: UInt8
    let threadPool: NIOThreadPool

    /// A hash of a random password: verifying against it when an account does not exist makes the
    /// answer take as long as for a wrong password, so timing does not reveal which names exist.
    private let decoyHash: String

    init(cost: UInt8, threadPool: NIOThreadPool = .singleton) {
        self.cost = max(cost, 10)
        self.threadPool = threadPool
        self.decoyHash = Bcrypt.hash(String(UInt64.random(in: .min ... .max)), cost: max(cost, 10))
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Spends the time of one verification and fails.
    func verifyDecoy(_ password: String) async throws {
        let decoy = decoyHash
        _ = try await threadPool.runIfActive { Bcrypt.verify(password, hash: decoy) }
    }
}
