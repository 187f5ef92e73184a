import Logging
import PetrelCore
import PetrelStore
import ServiceLifecycle
import Synchronization

/// Delayed delivery (Java `ScheduleMessageService`, spec §14): a message with `DELAY=n` is parked in
/// `SCHEDULE_TOPIC_XXXX` queue n−1 with `REAL_TOPIC`/`REAL_QID`; this loop reads every level's
/// queue from its persisted progress and, once a message is due (store time + the level's delay ≤
/// now), stores it again in its real topic and queue with `DELAY` cleared, then advances the level's
/// progress and writes it to `<storeRoot>/config/delayOffset.json`.
///
/// Due times come from each parked message's store timestamp (the store computes the consume-queue
/// tagsCode from `TAGS` and cannot be given the delivery time), which is exactly what Java's
/// tagsCode holds. A level's queue is in store-time order, so the first message not yet due ends
/// that level's round. Delivery is at least once: a crash between the re-store and the progress
/// write delivers that message again after restart; no message is delivered early or lost.
public final class ScheduleService: Service, Sendable {
    /// The store parked and real messages live in.
    public let store: MessageStore
    /// Delay of each level (level 1 is index 0), from `messageDelayLevel`.
    public let levels: [Duration]
    /// Time between rounds when nothing was due.
    public let tick: Duration
    /// `delayOffset.json`.
    private let file: MetadataFile
    /// Level → next queue offset to look at.
    private let progress = Mutex<[Int: Int64]>([:])
    /// Set while a round runs: a second concurrent round is skipped, so nothing is delivered twice.
    private let inRound = Atomic<Bool>(false)
    /// Serialises writers of the file.
    private let persistLock = Mutex(())
    /// Where problems are reported.
    private let logger: Logger
    /// Told before a parked body is re-stored, so its compression dictionary stays (nil: no compression).
    private let compression: StoreBodyCompression?

    /// Messages read from a level per step.
    static let batchSize = 32

    /// Loads the progress from `<storeRoot>/config/delayOffset.json` (Java's layout:
    /// `{"offsetTable":{"<level>":<offset>}}`); a missing file starts every level at 0.
    public init(store: MessageStore, levels: [Duration], storeRoot: String, tick: Duration = .milliseconds(100),
                compression: StoreBodyCompression? = nil, logger: Logger) throws(BrokerError) {
        self.store = store
        self.compression = compression
        self.levels = levels
        self.tick = tick
        self.logger = logger
        file = MetadataFile(storeRoot: storeRoot, name: "delayOffset.json")
        var loaded: [Int: Int64] = [:]
        if let json = try file.read() {
            do {
                let reader = try JSONObjectReader(json, context: "delayOffset.json")
                for (key, value) in try reader.object("offsetTable") ?? [:] {
                    guard let level = Int(key), let offset = value.lenientInt64 else {
                        throw BrokerError(.corruptMetadata, "\(file.path): bad entry \(key)")
                    }
                    loaded[level] = offset
                }
            } catch let error as BrokerError {
                throw error
            } catch {
                throw BrokerError(.corruptMetadata, "\(file.path): \(error)")
            }
        }
        progress.withLock { $0 = loaded }
    }

    /// The delay level a `DELAY` property asks for, clamped to the configured maximum; nil when the
    /// message is not delayed (missing, not a number, or ≤ 0).
    public static func level(of properties: MessageProperties, levelCount: Int) -> Int? {
        guard let text = properties[PropertyKey.delayLevel], let level = Int(text), level > 0, levelCount > 0 else { return nil }
        return min(level, levelCount)
    }

    /// `message` parked for delayed delivery when its `DELAY` property asks for it: topic
    /// `SCHEDULE_TOPIC_XXXX`, queue level−1, `REAL_TOPIC`/`REAL_QID` set and `DELAY` clamped.
    /// Other messages come back unchanged.
    public static func parked(_ message: StoredMessage, levelCount: Int) -> StoredMessage {
        guard let level = level(of: message.message.properties, levelCount: levelCount) else { return message }
        var parked = message
        parked.message.properties[PropertyKey.realTopic] = message.message.topic
        parked.message.properties[PropertyKey.realQueueId] = String(message.queueId)
        parked.message.properties[PropertyKey.delayLevel] = String(level)
        parked.message.topic = SystemNames.scheduleTopic
        parked.queueId = Int32(level - 1)
        return parked
    }

    /// The next offset looked at in `level`'s queue.
    public func offset(level: Int) -> Int64 {
        progress.withLock { $0[level] ?? 0 }
    }

    /// The loop: a round every `tick` until graceful shutdown or cancellation.
    public func run() async throws {
        logger.debug("schedule service started", metadata: ["levels": "\(levels.count)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.deliverDue(now: System.nowMilliseconds())
                do { try await Task.sleep(for: self.tick) } catch { return }
            }
        }
        logger.debug("schedule service stopped")
    }

    /// One round: delivers every message due at `now` on every level and persists changed progress.
    /// Returns how many messages were delivered.
    @discardableResult
    public func deliverDue(now: Int64) async -> Int {
        guard !inRound.exchange(true, ordering: .acquiringAndReleasing) else { return 0 }
        defer { inRound.store(false, ordering: .releasing) }
        var delivered = 0
        var changed = false
        for (index, delay) in levels.enumerated() {
            let (count, moved) = await deliverLevel(index + 1, delayMilliseconds: Self.milliseconds(delay), now: now)
            delivered += count
            changed = changed || moved
        }
        if changed { persist() }
        return delivered
    }

    /// Delivers the due messages of one level; returns the count and whether progress moved.
    private func deliverLevel(_ level: Int, delayMilliseconds: Int64, now: Int64) async -> (Int, Bool) {
        let queueId = Int32(level - 1)
        var delivered = 0
        var moved = false
        while !store.isClosed {
            let start = offset(level: level)
            let result = store.getMessages(
                topic: SystemNames.scheduleTopic, queueId: queueId, offset: QueueOffset(start), maximumCount: Self.batchSize)
            switch result.status {
            case .found:
                break
            case .offsetTooSmall, .offsetOverflowBadly, .offsetFoundNull:
                // Files were removed, or the progress is past the end (store replaced): resume where the store says.
                if result.nextBeginOffset.rawValue != start {
                    setOffset(result.nextBeginOffset.rawValue, level: level)
                    moved = true
                    continue
                }
                return (delivered, moved)
            default:
                return (delivered, moved)
            }
            for (slice, queueOffset) in zip(result.records, result.queueOffsets) {
                let parked: StoredMessage
                do { parked = try slice.decode() } catch {
                    logger.error("skipping a parked message that does not decode", metadata: [
                        "level": "\(level)", "offset": "\(queueOffset)", "error": "\(error)",
                    ])
                    setOffset(queueOffset.rawValue + 1, level: level)
                    moved = true
                    continue
                }
                if parked.storeTimestamp + delayMilliseconds > now { return (delivered, moved) }
                if let message = Self.released(parked) {
                    do { try compression?.noteRestored([message]) } catch {
                        // Not advanced: the next round tries again.
                        logger.warning("re-storing a delayed message waits: its compression dictionary is not available", metadata: [
                            "level": "\(level)", "offset": "\(queueOffset)", "error": "\(error.message)",
                        ])
                        return (delivered, moved)
                    }
                    let put = await store.put(message)
                    switch put.status {
                    case .ok, .flushDiskTimeout:
                        delivered += 1
                    default:
                        // Not advanced: the next round tries again.
                        logger.warning("re-storing a delayed message failed; retrying", metadata: [
                            "level": "\(level)", "offset": "\(queueOffset)", "status": "\(put.status)",
                        ])
                        return (delivered, moved)
                    }
                } else {
                    logger.error("skipping a parked message without REAL_TOPIC/REAL_QID", metadata: [
                        "level": "\(level)", "offset": "\(queueOffset)",
                    ])
                }
                setOffset(queueOffset.rawValue + 1, level: level)
                moved = true
            }
            // Filtered-out or removed units: move past what was scanned.
            if result.nextBeginOffset.rawValue > offset(level: level) {
                setOffset(result.nextBeginOffset.rawValue, level: level)
                moved = true
            }
            if offset(level: level) == start { return (delivered, moved) }
        }
        return (delivered, moved)
    }

    /// The message to store in the real topic: topic and queue from `REAL_TOPIC`/`REAL_QID`, `DELAY`
    /// removed, everything else kept (reconsume times, `RETRY_TOPIC`, born time and host, flag,
    /// sysFlag, and `REAL_TOPIC`/`REAL_QID` as Java keeps them); nil when it does not say where it belongs.
    static func released(_ parked: StoredMessage) -> StoredMessage? {
        ParkedMessage.released(parked, removing: [PropertyKey.delayLevel])
    }

    /// Sets a level's progress in memory.
    private func setOffset(_ offset: Int64, level: Int) {
        progress.withLock { $0[level] = offset }
    }

    /// The progress as `delayOffset.json` holds it.
    public var serialized: JSONValue {
        let table = progress.withLock { $0 }
        return .object(["offsetTable": .object(Dictionary(uniqueKeysWithValues: table.map { (String($0.key), JSONValue.integer($0.value)) }))])
    }

    /// Writes the progress (atomically, through `MetadataFile`); a failure is logged and the next
    /// change writes again.
    public func persist() {
        persistLock.withLock { _ in
            do { try file.write(serialized) } catch {
                logger.error("persisting delay progress failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Whole milliseconds of a duration.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
