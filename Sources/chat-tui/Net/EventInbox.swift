import Synchronization

/// Where the network, the timers and the transfers leave their ``ChatEvent``s for the screen
/// loop, which owns the model and drains the inbox between two reads of the keyboard.
final class EventInbox: Sendable {
    private let state = Mutex<(events: [ChatEvent], quit: Bool)>(([], false))

    func post(_ event: ChatEvent) {
        state.withLock { $0.events.append(event) }
    }

    /// Asks the loop to end (SIGTERM, SIGHUP): it restores the terminal on its way out.
    func requestQuit() {
        state.withLock { $0.quit = true }
    }

    func drain() -> (events: [ChatEvent], quit: Bool) {
        state.withLock { state in
            defer { state.events = [] }
            return (state.events, state.quit)
        }
    }
}
