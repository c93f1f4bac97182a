import ChatCore
import Synchronization

/// Tells the start-up code the port the listener got, or that it never got one.
final class ReadySignal: Sendable {
    private struct State {
        var port: Int?
        var failed = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
    }

    private let state = Mutex(State())

    var hasFired: Bool { state.withLock { $0.port != nil } }

    func fire(port: Int) {
        let waiters = state.withLock { s in
            s.port = port
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    func fail() {
        let waiters = state.withLock { s in
            s.failed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    func wait() async -> Int? {
        await withCheckedContinuation { continuation in
            let now: Int?? = state.withLock { s in
                if let port = s.port { return .some(port) }
                if s.failed { return .some(nil) }
                s.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
