/// A problem that stops chatd from starting, said in one line that names what is wrong
/// (a port in use, an unwritable data directory, a bad option value).
struct StartupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
