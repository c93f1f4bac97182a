import NIOCore
import Synchronization

/// Pings the chat sessions of one event loop from one timer: a wheel of `interval` one-second
/// slots, each session in one of them. Every second the timer visits the next slot, so each
/// session is pinged once per interval and the pings of thousands of sessions are spread over
/// the interval instead of a timer (or a task) per session.
///
/// All its state is touched on ``eventLoop`` only.
final class PingWheel: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var slots: [[ObjectIdentifier: WebSocketConnection]]
    private var hand = 0
    private var count = 0
    private var timer: RepeatedTask?

    init(eventLoop: any EventLoop, interval: Int) {
        self.eventLoop = eventLoop
        self.slots = Array(repeating: [:], count: interval)
    }

    /// Adds a session; its first ping comes one interval from now. Returns its slot.
    func add(_ handler: WebSocketConnection) -> Int {
        eventLoop.preconditionInEventLoop()
        let slot = hand
        slots[slot][ObjectIdentifier(handler)] = handler
        count += 1
        if timer == nil {
            timer = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in turn() }
        }
        return slot
    }

    func remove(_ handler: WebSocketConnection, slot: Int) {
        eventLoop.preconditionInEventLoop()
        guard slots[slot].removeValue(forKey: ObjectIdentifier(handler)) != nil else { return }
        count -= 1
        if count == 0 {
            timer?.cancel()
            timer = nil
        }
    }

    private func turn() {
        hand = (hand + 1) % slots.count
        guard !slots[hand].isEmpty else { return }
        // a ping may close a session, which removes it from this slot
        for handler in Array(slots[hand].values) {
            handler.pingDue()
        }
    }
}

/// One ``PingWheel`` per event loop, for one server.
final class PingWheels: Sendable {
    let interval: Int
    private let wheels = Mutex<[ObjectIdentifier: PingWheel]>([:])

    init(interval: Int) {
        self.interval = interval
    }

    func wheel(for eventLoop: any EventLoop) -> PingWheel {
        wheels.withLock { wheels in
            if let wheel = wheels[ObjectIdentifier(eventLoop)] { return wheel }
            let wheel = PingWheel(eventLoop: eventLoop, interval: interval)
            wheels[ObjectIdentifier(eventLoop)] = wheel
            return wheel
        }
    }
}
