import ChatCore
import FTPProtocol

extension FTPReply {
    /// The reply to each file-area refusal (PROTOCOL.md §3–4): the same ``FileError`` the HTTP
    /// door turns into a status, with the same words.
    package init(refusing error: FileError) {
        let text = error.protocolError.message
        switch error {
        case .invalidName: self = .nameNotAllowed(text)
        case .notFound, .ownedByAnother, .notOwner: self = .fileUnavailable(text)
        case .tooLarge, .quotaExceeded: self = .storageExceeded(text)
        case .storageFull: self = .insufficientStorage
        case .invalidOffset: self = .invalidRestartOffset(text)
        case .storage: self = .localError("Local error in processing.")
        }
    }
}
