import NIOConcurrencyHelpers
import PetrelCore

/// The messages pulled from one queue and not yet consumed, with the flow control that stops
/// pulling when too many wait (Java's `ProcessQueue`).
///
/// Concurrent consumption removes messages in any order; the offset to commit is always the lowest
/// message still in flight (or one past the highest pulled when none is), so a crash redelivers
/// rather than loses. Orderly consumption takes messages in queue order with `takeMessages` and
/// commits them with `commitTaken` once the listener succeeded.
public final class ProcessQueue: Sendable {
    /// How much one queue may hold before its pulls pause (Java's `pullThresholdForQueue` and
    /// `pullThresholdSizeForQueue`).
    public struct Limits: Sendable, Hashable {
        /// Most messages cached; Java's default 1000.
        public var maximumMessageCount: Int
        /// Most body bytes cached; Java's default 100 MiB.
        public var maximumBytes: Int

        /// Limits; the defaults are Java's.
        public init(maximumMessageCount: Int = 1000, maximumBytes: Int = 100 << 20) {
            self.maximumMessageCount = maximumMessageCount
            self.maximumBytes = maximumBytes
        }
    }

    /// Why pulling this queue should wait.
    public enum FlowControl: Hashable, Sendable {
        /// More than `maximumMessageCount` messages are cached.
        case tooManyMessages(Int)
        /// More than `maximumBytes` body bytes are cached.
        case tooManyBytes(Int)
    }

    /// The mutable part, guarded by `state`'s lock.
    private struct State {
        /// Cached messages by queue offset, not yet handed out (orderly) or not yet consumed (concurrent).
        var messages: [Int64: ReceivedMessage] = [:]
        /// The keys of `messages`, ascending.
        var offsets: [Int64] = []
        /// Messages handed out by `takeMessages` and not yet committed (orderly only).
        var taken: [Int64: ReceivedMessage] = [:]
        /// Body bytes of `messages` and `taken`.
        var cachedBytes = 0
        /// Highest queue offset ever put, -1 before the first.
        var highestOffset: Int64 = -1
        /// Set when the queue is no longer assigned; its deliveries must not commit.
        var isDropped = false
        /// Whether the broker lock for orderly consumption is held.
        var isLocked = false
        /// When the lock was last granted.
        var lastLockTime: ContinuousClock.Instant?
    }

    /// Messages and flags.
    private let state = NIOLockedValueBox(State())
    /// The queue these messages come from.
    public let queue: MessageQueue

    /// An empty process queue for `queue`.
    public init(queue: MessageQueue) {
        self.queue = queue
    }

    /// Caches newly pulled messages; duplicates (an offset already cached) are ignored.
    /// Returns how many were added.
    @discardableResult
    public func put(_ newMessages: [ReceivedMessage]) -> Int {
        state.withLockedValue { state in
            var added = 0
            for message in newMessages {
                let offset = message.queueOffset
                guard state.messages[offset] == nil, state.taken[offset] == nil else { continue }
                state.messages[offset] = message
                state.cachedBytes += message.body.readableBytes
                state.highestOffset = max(state.highestOffset, offset)
                added += 1
            }
            if added > 0 { state.offsets = state.messages.keys.sorted() }
            return added
        }
    }

    /// Removes consumed messages (concurrent mode) and returns the offset to commit: the lowest
    /// still cached, or one past the highest ever pulled when none is; nil before any message arrived.
    public func remove(_ consumed: [ReceivedMessage]) -> Int64? {
        state.withLockedValue { state in
            var removedAny = false
            for message in consumed {
                if let removed = state.messages.removeValue(forKey: message.queueOffset) {
                    state.cachedBytes -= removed.body.readableBytes
                    removedAny = true
                }
            }
            if removedAny { state.offsets.removeAll { state.messages[$0] == nil } }
            return Self.committableOffset(state)
        }
    }

    /// The offset that is safe to commit now (see `remove`); nil before any message arrived.
    public var committableOffset: Int64? {
        state.withLockedValue { Self.committableOffset($0) }
    }

    /// Lowest in-flight offset, or one past the highest pulled.
    private static func committableOffset(_ state: State) -> Int64? {
        let lowestInFlight = [state.offsets.first, state.taken.keys.min()].compactMap { $0 }.min()
        if let lowestInFlight { return lowestInFlight }
        return state.highestOffset >= 0 ? state.highestOffset + 1 : nil
    }

    /// Why pulling should wait under `limits`, or nil when it may go on.
    public func flowControl(_ limits: Limits) -> FlowControl? {
        state.withLockedValue { state in
            let count = state.messages.count + state.taken.count
            if count > limits.maximumMessageCount { return .tooManyMessages(count) }
            if state.cachedBytes > limits.maximumBytes { return .tooManyBytes(state.cachedBytes) }
            return nil
        }
    }

    /// Cached messages (waiting and taken).
    public var messageCount: Int { state.withLockedValue { $0.messages.count + $0.taken.count } }

    /// Cached body bytes.
    public var cachedBytes: Int { state.withLockedValue { $0.cachedBytes } }

    /// The cached messages not yet handed out, in queue order (for concurrent delivery).
    public func waitingMessages() -> [ReceivedMessage] {
        state.withLockedValue { state in state.offsets.compactMap { state.messages[$0] } }
    }

    /// Orderly mode: hands out up to `count` of the lowest waiting messages; they stay in flight
    /// until `commitTaken` or `returnTaken`. Empty while earlier taken messages are outstanding, so
    /// a queue is never consumed by two deliveries at once.
    public func takeMessages(_ count: Int) -> [ReceivedMessage] {
        state.withLockedValue { state in
            guard state.taken.isEmpty else { return [] }
            let chosen = state.offsets.prefix(max(count, 1))
            var result: [ReceivedMessage] = []
            for offset in chosen {
                if let message = state.messages.removeValue(forKey: offset) {
                    state.taken[offset] = message
                    result.append(message)
                }
            }
            state.offsets.removeFirst(chosen.count)
            return result
        }
    }

    /// Orderly mode: the taken messages were consumed; returns the offset to commit.
    public func commitTaken() -> Int64? {
        state.withLockedValue { state in
            for (_, message) in state.taken { state.cachedBytes -= message.body.readableBytes }
            state.taken.removeAll()
            return Self.committableOffset(state)
        }
    }

    /// Orderly mode: puts the taken messages back to be taken again (after a lost lock or a drop).
    public func returnTaken() {
        state.withLockedValue { state in
            for (offset, message) in state.taken { state.messages[offset] = message }
            state.taken.removeAll()
            state.offsets = state.messages.keys.sorted()
        }
    }

    /// True once the queue is no longer assigned to this client.
    public var isDropped: Bool {
        get { state.withLockedValue { $0.isDropped } }
        set { state.withLockedValue { $0.isDropped = newValue } }
    }

    /// Orderly mode: whether the broker lock is held and younger than `lifetime` (Java treats its
    /// lock as valid for 30 s although the broker keeps it 60 s, so it renews well before expiry).
    public func isLockValid(lifetime: Duration = .seconds(30), now: ContinuousClock.Instant = .now) -> Bool {
        state.withLockedValue { state in
            guard state.isLocked, let granted = state.lastLockTime else { return false }
            return now - granted < lifetime
        }
    }

    /// Orderly mode: records a granted (or lost) broker lock.
    public func setLocked(_ locked: Bool, at instant: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            state.isLocked = locked
            if locked { state.lastLockTime = instant }
        }
    }
}
