import Foundation
import NIOCore

/// A problem that stops chatd from starting, said in one line that names what is wrong
/// (a port in use, an unwritable data directory, a bad option value).
package struct StartupError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }

    /// Why a system call failed, in the words of `strerror` ("no such file or directory"), for
    /// the errors NIO and Foundation wrap errno in; anything else as it describes itself.
    package static func reason(_ error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        if let error = error as? CocoaError, let underlying = error.underlying as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue)).lowercased()
        }
        return "\(error)"
    }
}
