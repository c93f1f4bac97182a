import Foundation
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatTLS
@testable import ChatHTTP
import ChatTestSupport


/// The browser UI's files as chatd loads them: every file under the directory, with its type and
/// an ETag that follows the content.
@Suite("Web assets")
struct WebAssetsTests {
    func directory(_ files: [String: String]) throws -> URL {
        let root = URL(fileURLWithPath: makeTemporaryDirectory())
        for (name, content) in files {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        return root
    }

    @Test func loadsEveryFileWithItsTypeAndAContentETag() throws {
        let assets = try WebAssets(directory: try directory(["index.html": "<p>", "app.css": "p{}", "js/socket.js": "export {}"]))
        #expect(Set(assets.assets.keys) == ["index.html", "app.css", "js/socket.js"])
        #expect(assets.assets["js/socket.js"]?.contentType == "text/javascript; charset=utf-8")
        #expect(assets.assets["app.css"]?.contentType == "text/css; charset=utf-8")
        let other = try WebAssets(directory: try directory(["index.html": "<p>changed"]))
        #expect(assets.assets["index.html"]?.etag != other.assets["index.html"]?.etag)
        #expect(assets.assets["index.html"]?.etag.hasPrefix("\"") == true)
    }

    @Test func aDirectoryWithoutIndexIsRefused() throws {
        #expect(throws: StartupError.self) { try WebAssets(directory: try directory(["app.js": ""])) }
    }

    @Test func theShippedUIIsFound() {
        #expect(WebAssets.bundled(logger: quietLogger).assets["index.html"] != nil)
    }
}
