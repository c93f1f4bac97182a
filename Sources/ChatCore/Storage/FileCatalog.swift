/// The file area's records (name, owner, size, hash, where the content is), as every backend
/// stores them. ``FileStore`` keeps the content; each method here is one transaction that reads
/// what a rule needs and asks ``FilePolicy``, so ownership and quota are decided in one place and
/// enforced where the change is made.
package protocol FileCatalog: Sendable {
    /// Every file, sorted by the bytes of its UTF-8 name.
    func list() async throws -> [StoredFile]

    func file(named name: String) async throws -> StoredFile?

    /// The file now stored under `name`, and how many bytes `ownerID` stores under other names.
    func uploadCheck(name: String, ownerID: Int64) async throws -> (existing: StoredFile?, othersUsage: Int64)

    /// Records `stored` under its name, replacing a file of the same owner, once `policy` allows
    /// it (``FilePolicy/checkMayWrite(over:by:)``, ``FilePolicy/checkQuota(othersUsage:plus:)``).
    /// Returns the file it replaced.
    func record(_ stored: StoredFile, policy: FilePolicy) async throws -> StoredFile?

    /// Renames `source` to `target` for its owner, replacing the owner's own `target`
    /// (``FilePolicy/checkMayChange(_:by:)``, ``FilePolicy/checkMayWrite(over:by:)``). Returns the
    /// file before and after, and the one replaced.
    func rename(from source: String, to target: String, by accountID: Int64) async throws
        -> (original: StoredFile, renamed: StoredFile, replaced: StoredFile?)

    /// Removes the record of `name` if ``FilePolicy/checkMayChange(_:by:)`` allows it.
    func remove(named name: String, by accountID: Int64) async throws -> StoredFile

    /// Forgets `name` if it still points at `blob` (its content was found missing).
    func forget(name: String, blob: String) async throws
}
