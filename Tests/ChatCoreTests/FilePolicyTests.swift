import Testing
@testable import ChatCore
@testable import ChatStoreSQLite


/// The file area's rules as plain decisions: every catalog and door asks these.
@Suite("File policy")
struct FilePolicyTests {
    let alice: Int64 = 1, bob: Int64 = 2

    private func file(owner: Int64, size: Int64 = 10) -> StoredFile {
        StoredFile(name: "a.txt", ownerID: owner, ownerName: owner == alice ? "alice" : "bob", size: size, sha256: "", blob: "b",
                   uploadedAtMillis: 0)
    }

    @Test func onlyTheOwnerMayChangeAFile() throws {
        #expect(FilePolicy.mayChange(file(owner: alice), by: alice))
        #expect(!FilePolicy.mayChange(file(owner: alice), by: bob))
        #expect(!FilePolicy.mayChange(file(owner: alice), by: nil), "anonymous changes nothing")
        try FilePolicy.checkMayChange(file(owner: alice), by: alice)
        #expect(throws: FileError.notOwner(name: "a.txt", owner: "alice")) { try FilePolicy.checkMayChange(file(owner: alice), by: bob) }
    }

    @Test func writingOverAnotherUsersNameIsRefused() throws {
        try FilePolicy.checkMayWrite(over: nil, by: bob)
        try FilePolicy.checkMayWrite(over: file(owner: bob), by: bob)
        #expect(throws: FileError.ownedByAnother(name: "a.txt", owner: "alice")) {
            try FilePolicy.checkMayWrite(over: file(owner: alice), by: bob)
        }
    }

    @Test func theSizeLimitIsInclusive() throws {
        let policy = FilePolicy(maxFileSize: 100)
        try policy.checkSize(100)
        #expect(throws: FileError.tooLarge(limit: 100)) { try policy.checkSize(101) }
        #expect(policy.largestBody(framing: 20) == 120)
    }

    @Test func theQuotaCountsTheOwnersOtherFiles() throws {
        let unlimited = FilePolicy(maxFileSize: 100)
        try unlimited.checkQuota(othersUsage: .max / 2, plus: 100)
        let policy = FilePolicy(maxFileSize: 100, quota: 300)
        try policy.checkQuota(othersUsage: 200, plus: 100)
        #expect(throws: FileError.quotaExceeded(quota: 300)) { try policy.checkQuota(othersUsage: 201, plus: 100) }
    }
}
