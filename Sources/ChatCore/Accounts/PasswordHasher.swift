import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on NIO's blocking thread pool: one hash costs tens of milliseconds of CPU and must
/// never run on an event loop or a cooperative-pool thread.
///
/// bcrypt reads only the first 72 bytes of its input, and passwords may be 1024. So the password
/// is first reduced to the base64 of its SHA-256 (44 bytes, no NUL): every byte counts, and the
/// slow, salted part is still bcrypt.
package struct PasswordHasher: Sendable {
    /// bcrypt cost; PROTOCOL.md requires at least 10.
    package let cost: UInt8
    package let threadPool: NIOThreadPool

    /// A hash of a random password: verifying against it when an account does not exist makes the
    /// answer take as long as for a wrong password, so timing does not reveal which names exist.
    private let decoyHash: String

    package init(cost: UInt8, threadPool: NIOThreadPool = .singleton) {
        self.cost = max(cost, 10)
        self.threadPool = threadPool
        self.decoyHash = Bcrypt.hash(String(UInt64.random(in: .min ... .max)), cost: max(cost, 10))
    }

    package func hash(_ password: String) async throws -> String {
        let cost = self.cost
        let input = Self.prehash(password)
        return try await threadPool.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    package func verify(_ password: String, against hash: String) async throws -> Bool {
        let input = Self.prehash(password)
        return try await threadPool.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    package static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    /// Spends the time of one verification and fails.
    package func verifyDecoy(_ password: String) async throws {
        let decoy = decoyHash
        let input = Self.prehash(password)
        _ = try await threadPool.runIfActive { Bcrypt.verify(input, hash: decoy) }
    }
}
