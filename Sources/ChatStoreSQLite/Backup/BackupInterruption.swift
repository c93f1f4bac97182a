import ChatCore
import Foundation
import Synchronization

/// SIGINT and SIGTERM during a backup are noted rather than fatal, so that the backup stops at
/// its next check and removes its staging links and its unfinished copy instead of leaving both.
package enum BackupInterruption {
    private static let requested = Atomic<Bool>(false)

    package static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in BackupInterruption.requested.store(true, ordering: .relaxed) }
        }
    }

    package static func check() throws(BackupError) {
        if requested.load(ordering: .relaxed) { throw .interrupted }
    }
}
