import ChatCore
import Logging
import ServiceLifecycle

/// The first thing to stop on shutdown: closes every chat session with 1001 ("going away") and
/// waits, briefly, for them to finish, so that clients see a clean close instead of a reset.
struct SessionCloser: Service {
    let hub: ChatHub
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        hub.closeAll(.goingAway)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        while hub.sessionCount > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
