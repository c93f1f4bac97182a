import AsyncHTTPClient
import Dispatch
import Foundation
import Shared

/// The full-screen client: the model, the terminal and the network put together. The screen loop
/// runs on a thread of its own (curses blocks while it waits for a key) and owns the model; the
/// network, the clock and the transfers post events to the ``EventInbox`` from their tasks.
final class InteractiveSession: @unchecked Sendable {
    // Touched only by the screen thread, except `inbox`, `api`, `connection` which are Sendable.
    private var model: ChatModel
    private let terminal = Terminal()
    private let inbox = EventInbox()
    private let api: ChatAPI
    private let session: Login.Result
    private let connection: ChatConnection
    private var quitting = false

    init(api: ChatAPI, session: Login.Result, showJoinLines: Bool = true) {
        self.api = api
        self.session = session
        self.model = ChatModel(server: api.endpoint.base)
        model.showJoinLines = showJoinLines
        self.connection = ChatConnection(endpoint: api.endpoint, tlsConfiguration: api.tlsConfiguration, token: session.token, inbox: inbox)
    }

    /// Runs until the user quits or a signal asks to; the terminal is restored in every case.
    func run() async {
        let signals = watchSignals()
        let ticker = Task { [inbox] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                inbox.post(.tick)
            }
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                screenLoop()
                done.resume()
            }
            thread.name = "chat-tui screen"
            thread.start()
        }
        ticker.cancel()
        signals.forEach { $0.cancel() }
    }

    private func screenLoop() {
        terminal.start()
        defer { terminal.stop() }
        let size = terminal.size
        perform(model.handle(.resize(columns: size.columns, rows: size.rows)))
        connection.connect()
        ScreenPainter(terminal: terminal).paint(model)
        while !quitting {
            var events: [ChatEvent] = terminal.readKeys(waitingUpTo: 50).map { output in
                switch output {
                case .key(let key): .key(key)
                case .resize: .resize(columns: terminal.size.columns, rows: terminal.size.rows)
                }
            }
            let (posted, quitRequested) = inbox.drain()
            events += posted
            if quitRequested { break }
            guard !events.isEmpty else { continue }
            for event in events where !quitting {
                perform(model.handle(event))
            }
            ScreenPainter(terminal: terminal).paint(model)
        }
    }

    // MARK: effects

    private func perform(_ effects: [ChatEffect]) {
        for effect in effects {
            switch effect {
            case .send(let frame):
                connection.send(frame)
            case .connect:
                connection.connect()
            case .fetchFiles:
                background { api, token, inbox in
                    inbox.post(.fileList(try await api.files(token: token)))
                }
            case .delete(let name):
                background { api, token, _ in
                    try await api.delete(name, token: token)
                }
            case .upload(let id, let localPath, let name):
                transfer(id: id) { api, token, progress in
                    try await api.upload(Self.expand(localPath), as: name, token: token, progress: progress).size
                }
            case .download(let id, let name, let destination, let replace):
                let path = Self.destination(destination, name: name)
                if !replace && FileManager.default.fileExists(atPath: path) {
                    inbox.post(.downloadTargetExists(id: id, path: path))
                    continue
                }
                transfer(id: id) { api, token, progress in
                    try await api.download(name, to: path, token: token, progress: progress)
                }
            case .completePath(let partial):
                inbox.post(.pathCompletions(partial: partial, candidates: Self.completions(of: partial)))
            case .bell:
                terminal.bell()
            case .redraw:
                terminal.clear()
                terminal.refresh()
            case .quit:
                quitting = true
            }
        }
    }

    /// Runs a file request in the background; its failure becomes a status-line error.
    private func background(_ work: @escaping @Sendable (ChatAPI, String, EventInbox) async throws -> Void) {
        Task { [api, inbox, token = session.token] in
            do {
                try await work(api, token, inbox)
            } catch {
                inbox.post(.httpError("\(error)"))
            }
        }
    }

    /// Runs an upload or download, reporting progress at most every 64 KiB step of a percent.
    private func transfer(id: Int, _ work: @escaping @Sendable (ChatAPI, String, ChatAPI.Progress?) async throws -> Int64) {
        Task { [api, inbox, token = session.token] in
            let lastPercent = LockedValue(-1)
            let progress: ChatAPI.Progress = { bytes, total in
                let percent = total.map { $0 > 0 ? Int(bytes * 100 / $0) : 100 } ?? Int(bytes >> 20)
                guard percent != lastPercent.value else { return }
                lastPercent.value = percent
                inbox.post(.transferProgress(id: id, bytes: bytes, total: total))
            }
            do {
                inbox.post(.transferFinished(id: id, .success(try await work(api, token, progress))))
            } catch {
                inbox.post(.transferFinished(id: id, .failure(TransferFailure("\(error)"))))
            }
        }
    }

    private func watchSignals() -> [any DispatchSourceSignal] {
        [SIGTERM, SIGHUP, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [inbox] in inbox.requestQuit() }
            source.resume()
            return source
        }
    }

    // MARK: local paths

    static func expand(_ path: String) -> String {
        (path as NSString).expandingTildeInPath
    }

    /// A destination that is a directory (or ends in `/`) gets the file's name inside it.
    static func destination(_ raw: String, name: String) -> String {
        let path = expand(raw.isEmpty ? "." : raw)
        var isDirectory: ObjCBool = false
        if raw.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            return (path as NSString).appendingPathComponent(name)
        }
        return path
    }

    /// Local paths that complete `partial`, directories ending in `/`, as the prompts want them.
    static func completions(of partial: String) -> [String] {
        let expanded = expand(partial)
        let directory = partial.hasSuffix("/") || partial.isEmpty ? expanded : (expanded as NSString).deletingLastPathComponent
        let prefix = partial.hasSuffix("/") || partial.isEmpty ? "" : (expanded as NSString).lastPathComponent
        let shownDirectory = partial.hasSuffix("/") || partial.isEmpty ? partial : String(partial.dropLast(prefix.count))
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return [] }
        return entries.filter { $0.hasPrefix(prefix) && (prefix.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { entry in
            var isDirectory: ObjCBool = false
            let full = ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(entry)
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
            return shownDirectory + entry + (isDirectory.boolValue ? "/" : "")
        }
    }
}
