import PetrelCore
import PetrelStore

/// Storing due timers in their real topics, a batch per queue per round.
extension TimerService {
    /// Due timers taken from the heap per step.
    static let deliveryBatch = 512
    /// Largest batch handed to one `put(batch:)`, in bytes (a quarter segment at most, so it always fits).
    var batchByteLimit: Int { max(1, min(1 << 20, store.configuration.commitLogSegmentSize / 4)) }

    /// One due timer ready to store.
    struct Release {
        /// Its heap item.
        var item: TimerHeap.Item
        /// Its timer-log entry.
        var entry: TimerLog.Entry
        /// The message for its real topic and queue.
        var message: StoredMessage
    }

    /// Stores the messages of `due` (in deliver-time order) in their real topics: consecutive
    /// appends per queue go in one `put(batch:)`, so a burst of due timers costs one append per
    /// queue rather than one per message. Returns how many were stored and the items the store
    /// refused (to be tried again later), which include every item after the first refusal.
    func deliver(_ due: [TimerHeap.Item]) async -> (stored: Int, failed: [TimerHeap.Item]) {
        var groups: [QueueKey: [Release]] = [:]
        var order: [QueueKey] = []
        for item in due {
            guard let release = prepare(item) else { continue }
            let key = QueueKey(topic: release.message.message.topic, queueId: release.message.queueId)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(release)
        }
        var stored = 0
        var failed: [TimerHeap.Item] = []
        for key in order {
            for batch in split(groups[key] ?? []) {
                if !failed.isEmpty {
                    failed += batch.map(\.item)
                    continue
                }
                if await store(batch) { stored += batch.count } else { failed += batch.map(\.item) }
            }
        }
        return (stored, failed)
    }

    /// The parked message of a pending timer, released for its real topic; nil (and the entry
    /// marked skipped) when it cannot be read or names no real topic, nil too when no longer pending.
    private func prepare(_ item: TimerHeap.Item) -> Release? {
        guard let entry = try? log.entry(at: item.index), entry.state == .pending else { return nil }
        let parked: StoredMessage
        do { parked = try store.message(at: CommitLogOffset(entry.commitLogOffset), size: entry.size) } catch {
            logger.error("skipping a timer message that cannot be read", metadata: ["index": "\(item.index)", "error": "\(error)"])
            mark(item.index, entry, .skipped)
            return nil
        }
        guard let message = TimerMessages.released(parked) else {
            logger.error("skipping a timer message without REAL_TOPIC/REAL_QID", metadata: ["index": "\(item.index)"])
            mark(item.index, entry, .skipped)
            return nil
        }
        return Release(item: item, entry: entry, message: message)
    }

    /// `releases` cut into batches of at most `batchByteLimit` bytes, counted by each parked record's
    /// size (the released copy is about as large), one message per batch at least.
    private func split(_ releases: [Release]) -> [[Release]] {
        var batches: [[Release]] = []
        var current: [Release] = []
        var bytes = 0
        for release in releases {
            let size = Int(release.entry.size)
            if !current.isEmpty, bytes + size > batchByteLimit {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(release)
            bytes += size
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// Appends one batch and marks its entries delivered; false when the store refused it.
    private func store(_ batch: [Release]) async -> Bool {
        do { try compression?.noteRestored(batch.map(\.message)) } catch {
            logger.warning("re-storing timer messages waits: their compression dictionary is not available", metadata: [
                "count": "\(batch.count)", "error": "\(error.message)",
            ])
            return false
        }
        let put = await store.put(batch: batch.map(\.message))
        switch put.status {
        case .ok, .flushDiskTimeout:
            guard let appended = put.appended, appended.recordOffsets.count == batch.count else { return false }
            for (release, offset) in zip(batch, appended.recordOffsets) {
                var done = release.entry
                done.deliveredOffset = offset.rawValue
                mark(release.item.index, done, .delivered)
            }
            state.withLock { $0.highestDeliveredEnd = max($0.highestDeliveredEnd, appended.endOffset.rawValue) }
            delivered.add(batch.count, ordering: .relaxed)
            return true
        default:
            logger.warning("re-storing timer messages failed; retrying", metadata: ["count": "\(batch.count)", "status": "\(put.status)"])
            return false
        }
    }
}
