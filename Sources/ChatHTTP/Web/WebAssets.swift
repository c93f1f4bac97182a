import ChatCore
import Crypto
import Foundation
import Hummingbird
import Logging

/// The browser UI's files (HTML, CSS, JavaScript modules), shipped as the package's resources and
/// read into memory once at start: they are a few dozen kilobytes, and serving them from memory
/// keeps file I/O off the event loops. No build step: what is in `Web/Assets` is what is served.
package struct WebAssets: Sendable {
    package struct Asset: Sendable {
        package let bytes: ByteBuffer
        package let contentType: String
        /// A quoted hash of the content, so a browser revalidates cheaply (304) after an update.
        package let etag: String
    }

    package let assets: [String: Asset]

    /// Reads every file of `directory` (one level, plus subdirectories as `sub/name`).
    package init(directory: URL) throws(StartupError) {
        var assets: [String: Asset] = [:]
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw StartupError("the web UI's files are missing at \(directory.path)")
        }
        let root = directory.standardizedFileURL.path + "/"
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: url) else { continue }
            let name = String(url.standardizedFileURL.path.dropFirst(root.count))
            let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: Self.contentType(of: name), etag: "\"\(digest)\"")
        }
        guard assets["index.html"] != nil else {
            throw StartupError("the web UI's index.html is missing in \(directory.path)")
        }
        self.assets = assets
    }

    /// No UI: `/` says where the files should be. chatd's other doors work without them.
    package static let none = WebAssets(assets: [:])

    private init(assets: [String: Asset]) {
        self.assets = assets
    }

    /// The assets shipped with chatd: the resource directory SwiftPM puts next to the binary
    /// (`chatd_chatd.resources/Assets`), else the source tree chatd was built from. Not
    /// `Bundle.module`, which stops the process when the directory is missing: a binary copied
    /// without its resources should still chat and serve files, and say what is missing.
    package static func bundled(logger: Logger) -> WebAssets {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("chatd_chatd.resources/Assets"))
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Assets"))
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("index.html").path) {
            do {
                return try WebAssets(directory: candidate)
            } catch {
                logger.error("cannot read the web UI", metadata: ["error": "\(error)"])
            }
        }
        logger.error("the web UI's files are missing; / will say so", metadata: ["looked in": "\(candidates.map(\.path))"])
        return .none
    }

    package static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json", "webmanifest": "application/json"
        default: "application/octet-stream"
        }
    }
}
