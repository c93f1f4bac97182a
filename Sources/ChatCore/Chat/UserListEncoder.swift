import Foundation
import NIOCore
import Shared

/// The `users` array of a `welcome` (`[{"name":…,"online":…},…]`), written straight into bytes.
///
/// It is the largest part of a welcome (every account, with presence), and a crowd of N
/// arriving sessions encodes it N times. So the accounts are encoded once per roster
/// (``Template``), every entry saying `false`, and a welcome copies those bytes and writes
/// `true ` over the `false` of each account online: a copy and a few bytes per welcome instead
/// of every name again. (`"online":true }` is the same JSON as `"online":true}`.)
///
/// Account names are ASCII letters, digits, `_`, `.` and `-` (`Username.isAllowed`), which JSON
/// carries as they are; a name outside that set (none should exist) is escaped by `JSONEncoder`,
/// so the output is valid JSON whatever is stored.
package enum UserListEncoder {
    /// One roster's entries, encoded.
    package struct Template: Sendable {
        package let accounts: [Account]
        private let bytes: ByteBuffer
        /// Where each account's `false` starts, in `accounts` order.
        private let flags: [Int]

        package init(_ accounts: [Account]) {
            var buffer = ByteBufferAllocator().buffer(capacity: 2 + accounts.count * 40)
            var flags: [Int] = []
            flags.reserveCapacity(accounts.count)
            buffer.writeStaticString("[")
            for (index, account) in accounts.enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                buffer.writeStaticString(#"{"name":"#)
                if account.name.utf8.allSatisfy(Username.isAllowed) {
                    buffer.writeStaticString("\"")
                    buffer.writeString(account.name)
                    buffer.writeStaticString("\"")
                } else {
                    buffer.writeBytes((try? JSONEncoder().encode(account.name)) ?? Data(#""""#.utf8))
                }
                buffer.writeStaticString(#","online":"#)
                flags.append(buffer.writerIndex - buffer.readerIndex)
                buffer.writeStaticString("false}")
            }
            buffer.writeStaticString("]")
            self.accounts = accounts
            self.bytes = buffer
            self.flags = flags
        }

        /// The array with each account's presence.
        package func encode(isOnline: (Int64) -> Bool) -> ByteBuffer {
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.readableBytes)
            buffer.writeImmutableBuffer(bytes)
            for (index, account) in accounts.enumerated() where isOnline(account.id) {
                buffer.setStaticString("true ", at: buffer.readerIndex + flags[index])
            }
            return buffer
        }
    }

    package static func encode(_ accounts: [Account], isOnline: (Int64) -> Bool) -> ByteBuffer {
        Template(accounts).encode(isOnline: isOnline)
    }
}
