import Foundation
import Shared
import Testing
@testable import ChatCore
@testable import ChatStorePostgres
import ChatTestSupport


/// The NOTIFY payloads nodes exchange: each kind survives the trip, and anything else (another
/// version's event, somebody else's NOTIFY) is ignored rather than misread.
@Suite struct ClusterEventTests {
    @Test func everyEventRoundTrips() throws {
        let file = FileEvent(event: .replaced, file: FileInfo(name: "a b é.txt", owner: "bob", size: 12,
                                                                uploadedAt: "2026-11-21T10:00:00.000Z", sha256: "ab"), by: "bob")
        let events: [ClusterEvent] = [
            .messages(upTo: 0), .messages(upTo: 9_007_199_254_740_993),
            .presence(account: Account(id: 7, name: "Ann Lee"), online: true),
            .presence(account: Account(id: 8, name: "z"), online: false),
            .file(file),
            .logout(tokenHash: Data((0..<32).map { UInt8($0 * 7) })),
        ]
        for event in events {
            #expect(ClusterEvent(payload: event.payload) == event, "\(event.payload)")
        }
    }

    /// NOTIFY payloads must stay under PostgreSQL's 8000 bytes: the longest file name (255
    /// bytes, each escaped by JSON at worst as \uXXXX: 6 bytes per byte) still fits.
    @Test func theLargestFileEventFitsInANotification() {
        let name = String(repeating: "\u{1}", count: 255)
        let event = ClusterEvent.file(FileEvent(event: .added, file: FileInfo(name: name, owner: String(repeating: "o", count: 32),
                                                                               size: .max, uploadedAt: "2026-11-21T10:00:00.000Z",
                                                                               sha256: String(repeating: "f", count: 64)),
                                                by: String(repeating: "o", count: 32)))
        #expect(event.payload.utf8.count < 8000)
    }

    @Test func unknownPayloadsAreIgnored() {
        for payload in ["", "m", "m x", "m 1 2", "j 1", "j x bob", "l 2 ", "f {", "f {\"type\":\"users\",\"users\":[]}", "x 1", "hello", "o 12", "o " + String(repeating: "g", count: 64)] {
            #expect(ClusterEvent(payload: payload) == nil, "\(payload)")
        }
    }
}
