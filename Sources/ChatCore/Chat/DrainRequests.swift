import NIOCore

/// Writers to wake after a fan-out, grouped by event loop: one `execute` per loop runs every
/// writer of that loop, so a broadcast to a thousand sessions costs a few cross-thread wake-ups
/// rather than a thousand, and each socket gets one flush for everything queued for it.
package struct DrainRequests {
    private var byLoop: [ObjectIdentifier: (loop: any EventLoop, drains: [any OutboundDrain])] = [:]

    package mutating func add(_ drain: (any OutboundDrain)?) {
        guard let drain else { return }
        let key = ObjectIdentifier(drain.eventLoop)
        if byLoop[key] == nil {
            byLoop[key] = (drain.eventLoop, [drain])
        } else {
            byLoop[key]!.drains.append(drain)
        }
    }

    /// How long a woken writer waits before writing, so that the fan-outs of the next few
    /// milliseconds (a group commit, a crowd's join notices) join the same write and flush.
    package static let coalescing = TimeAmount.milliseconds(4)

    package func schedule() {
        for (loop, drains) in byLoop.values {
            loop.scheduleTask(in: Self.coalescing) { for drain in drains { drain.drain() } }
        }
    }
}
