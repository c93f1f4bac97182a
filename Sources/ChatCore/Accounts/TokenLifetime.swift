/// How long a session token lives (`--token-days`, PROTOCOL.md §1: 30 days by default, sliding):
/// every use moves its end to a full lifetime from now, so an active user is never logged out
/// while an unused token runs out. Both stores keep only the end; the decision is made here.
package struct TokenLifetime: Sendable, Equatable {
    /// What to do with a token presented now.
    package enum Verdict: Sendable, Equatable {
        /// Past its end: refuse it and forget it.
        case expired
        /// Valid, and its end is recent enough to leave as it is.
        case valid
        /// Valid; write this new end. Only when it moves by more than ``extensionStepMillis``,
        /// so that a busy client does not cost a database write per request.
        case extend(toMillis: Int64)
    }

    /// The smallest move of a token's end worth writing: an hour.
    package static let extensionStepMillis: Int64 = 3_600_000

    package let millis: Int64

    package init(days: Int) {
        millis = Int64(days) * 86_400_000
    }

    /// The end of a token issued now.
    package func end(issuedAtMillis now: Int64) -> Int64 {
        now + millis
    }

    package func verdict(endMillis: Int64, nowMillis now: Int64) -> Verdict {
        guard endMillis > now else { return .expired }
        let slid = now + millis
        return slid - endMillis > Self.extensionStepMillis ? .extend(toMillis: slid) : .valid
    }
}
