/// A question the input line asks for a file action, in place of the chat input (whose draft is
/// kept aside untouched until the prompt is answered or cancelled with Esc).
struct Prompt: Sendable {
    enum Kind: Equatable, Sendable {
        /// The local path of a file to upload.
        case uploadPath
        /// Where to save the download of `name`.
        case downloadDestination(name: String)
        /// y/n before deleting `name`, one of the user's own files.
        case confirmDelete(name: String)
        /// y/n before a download of `name` replaces the local file `path`.
        case confirmOverwrite(name: String, path: String)
    }

    let kind: Kind
    var editor: LineEditor

    init(_ kind: Kind, text: String = "") {
        self.kind = kind
        self.editor = LineEditor(text)
    }

    var label: String {
        switch kind {
        case .uploadPath: "Upload file: "
        case .downloadDestination(let name): "Save \(name) to: "
        case .confirmDelete(let name): "Delete \(name)? (y/n) "
        case .confirmOverwrite(_, let path): "\(path) exists. Replace it? (y/n) "
        }
    }

    /// Prompts that take a local path complete it with Tab (through ``ChatEffect/completePath(_:)``).
    var takesPath: Bool {
        switch kind {
        case .uploadPath, .downloadDestination: true
        case .confirmDelete, .confirmOverwrite: false
        }
    }
}
