/// The file area's records (name, owner, size, hash, where the content is), as every backend
/// stores them. ``FileStore`` keeps the content and the rules that need the disk; each method
/// here is one transaction, so ownership and quota are checked where the change is made.
package protocol FileCatalog: Sendable {
    /// Every file, sorted by the bytes of its UTF-8 name.
    func list() async throws -> [StoredFile]

    func file(named name: String) async throws -> StoredFile?

    /// The file now stored under `name`, and how many bytes `ownerID` stores under other names.
    func uploadCheck(name: String, ownerID: Int64) async throws -> (existing: StoredFile?, othersUsage: Int64)

    /// Records `stored` under its name, replacing a file of the same owner; refuses another
    /// owner's name (``FileError/ownedByAnother(name:owner:)``) and a passed quota. Returns the
    /// file it replaced.
    func record(_ stored: StoredFile, quota: Int64?) async throws -> StoredFile?

    /// Renames `source` to `target` for its owner, replacing the owner's own `target`. Returns
    /// the file before and after, and the one replaced.
    func rename(from source: String, to target: String, by accountID: Int64) async throws
        -> (original: StoredFile, renamed: StoredFile, replaced: StoredFile?)

    /// Removes the record of `name` if `accountID` owns it.
    func remove(named name: String, by accountID: Int64) async throws -> StoredFile

    /// Forgets `name` if it still points at `blob` (its content was found missing).
    func forget(name: String, blob: String) async throws
}
