import ChatCore
import HTTPParsing

/// A form's `file` part goes straight into the file store's upload, which keeps the size limit
/// and the quota as the bytes arrive.
extension FileUpload: MultipartFileSink {}
