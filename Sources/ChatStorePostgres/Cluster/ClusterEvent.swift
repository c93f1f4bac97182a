import ChatCore
import Foundation
import PostgresNIO
import Shared

/// What one node tells the others through `NOTIFY chatd`. Payloads carry ids and names, never
/// message bodies: a message may be larger than NOTIFY's 8000-byte limit, and a node that missed
/// a notification must be able to rebuild everything from the tables anyway.
package enum ClusterEvent: Equatable, Sendable {
    /// The channel every node LISTENs on.
    package static let channel = "chatd"

    /// Messages up to this id were committed: fetch and deliver what is new.
    case messages(upTo: Int64)
    /// An account came online (its first session anywhere) or went offline (its last).
    case presence(account: Account, online: Bool)
    /// A file was added, replaced or deleted (names are at most 255 bytes: it fits).
    case file(FileEvent)
    /// A token was logged out: close its sessions (the SHA-256 the tokens table keys on).
    case logout(tokenHash: Data)

    /// The statement that tells every node, this one included. Inside a transaction it goes
    /// out when (and only if) the transaction commits, so nobody hears of a change that did not
    /// happen.
    package var notification: PostgresQuery {
        "SELECT pg_notify(\(Self.channel), \(payload))"
    }

    package var payload: String {
        switch self {
        case .messages(let id):
            return "m \(id)"
        case .presence(let account, let online):
            return "\(online ? "j" : "l") \(account.id) \(account.name)"
        case .logout(let hash):
            return "o " + hash.map { String(format: "%02x", $0) }.joined()
        case .file(let event):
            // the `file` frame itself, which ServerFrame both encodes and decodes
            let json = (try? JSONEncoder().encode(ServerFrame.file(event))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "f " + json
        }
    }

    /// The event a payload describes; `nil` for anything else (an older or newer node's event,
    /// or somebody else's NOTIFY on the channel), which is ignored.
    package init?(payload: String) {
        let parts = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return nil }
        switch parts[0] {
        case "m":
            guard parts.count == 2, let id = Int64(parts[1]) else { return nil }
            self = .messages(upTo: id)
        case "j", "l":
            guard parts.count == 3, let id = Int64(parts[1]), !parts[2].isEmpty else { return nil }
            self = .presence(account: Account(id: id, name: String(parts[2])), online: parts[0] == "j")
        case "o":
            guard parts.count == 2, let hash = Self.bytes(hex: parts[1]) else { return nil }
            self = .logout(tokenHash: hash)
        case "f":
            let json = payload.dropFirst(2)
            guard case .file(let event)? = try? JSONDecoder().decode(ServerFrame.self, from: Data(json.utf8)) else { return nil }
            self = .file(event)
        default:
            return nil
        }
    }

    private static func bytes(hex: Substring) -> Data? {
        guard hex.count == 64 else { return nil }
        var bytes = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
