import Foundation
import NIOCore
import Shared

/// The `users` array of a `welcome` (`[{"name":…,"online":…},…]`), written straight into bytes.
///
/// It is the largest part of a welcome (every account, with presence), and a crowd of N
/// arriving sessions encodes it N times; going through `JSONEncoder` and an array of
/// `UserPresence` values made that the cost of joining. Account names are ASCII letters, digits,
/// `_`, `.` and `-` (`Username.isAllowed`), which JSON carries as they are; a name outside that set (none
/// should exist) is escaped by `JSONEncoder`, so the output is valid JSON whatever is stored.
package enum UserListEncoder {
    package static func encode(_ accounts: [Account], isOnline: (Int64) -> Bool) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 2 + accounts.count * 40)
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
            buffer.writeStaticString(isOnline(account.id) ? #","online":true}"# : #","online":false}"#)
        }
        buffer.writeStaticString("]")
        return buffer
    }
}
