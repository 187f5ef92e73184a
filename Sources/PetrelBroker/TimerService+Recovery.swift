import PetrelCore
import PetrelStore

/// Reading the timer topic into the timer log and the heap, at start and in every round.
extension TimerService {
    /// Timer-topic units read per store call.
    static let ingestBatch = 256
    /// Timer-topic units read per round at most.
    static let ingestPerRound: Int64 = 2_048

    /// Rebuilds the in-memory state at start. The watermark comes from the checkpoint (never below
    /// the oldest kept timer-log file or timer-topic unit); entries past the timer topic's end (its
    /// tail was lost) are erased; every entry from the watermark on is reloaded: pending ones go to
    /// the heap, a delivered one whose copy is not in the recovered commit log becomes pending again,
    /// and a missing one (lost with the page cache) is derived again from the timer topic.
    func recover() throws(BrokerError) {
        var saved: Int64 = 0
        do { saved = try TimerCheckpoint.read(checkpointPath)?.deliveredBelow ?? 0 } catch {
            logger.error("\(error); reloading every kept timer-log entry instead")
        }
        let queueMinimum = store.minimumOffset(topic: SystemNames.timerTopic, queueId: 0).rawValue
        let queueEnd = store.maximumOffset(topic: SystemNames.timerTopic, queueId: 0).rawValue
        if log.endIndex > queueEnd {
            do { try log.truncate(from: queueEnd) } catch {
                throw BrokerError(.storeFailure, "cannot erase timer-log entries past the timer topic's end: \(error)")
            }
        }
        let watermark = min(max(saved, log.startIndex, queueMinimum), queueEnd)
        let loadedEnd = max(log.endIndex, watermark)
        state.withLock {
            $0.watermark = watermark
            $0.persistedWatermark = watermark
            $0.nextIngest = loadedEnd
        }
        var index = watermark
        while index < loadedEnd {
            reload(index)
            index += 1
        }
        // Units past the timer log's end: sent before the crash, never recorded (or recorded only in a lost page cache).
        let reached = ingest(from: loadedEnd, to: queueEnd)
        state.withLock { $0.nextIngest = max($0.nextIngest, reached) }
        logger.info("timer log loaded", metadata: ["watermark": "\(watermark)", "end": "\(loadedEnd)", "pending": "\(pendingCount)"])
    }

    /// Puts entry `index` back in the heap when it still has to be delivered.
    private func reload(_ index: Int64) {
        guard let entry = try? log.entry(at: index) else {
            _ = ingest(from: index, to: index + 1)
            return
        }
        switch entry.state {
        case .pending:
            state.withLock { $0.heap.insert(.init(deliverAt: entry.deliverAtMilliseconds, index: index)) }
        case .delivered:
            if deliveredCopyExists(entry) { return }
            logger.info("a delivered timer message's copy was lost in a crash; delivering it again", metadata: ["index": "\(index)"])
            mark(index, entry, .pending)
            state.withLock { $0.heap.insert(.init(deliverAt: entry.deliverAtMilliseconds, index: index)) }
        case .skipped:
            return
        }
    }

    /// Whether a delivered entry's copy survived recovery: it starts below the recovered end of the
    /// commit log and is a readable record.
    private func deliveredCopyExists(_ entry: TimerLog.Entry) -> Bool {
        guard entry.deliveredOffset >= 0, entry.deliveredOffset < store.maximumCommitLogOffset.rawValue else { return false }
        return (try? store.record(at: CommitLogOffset(entry.deliveredOffset))) != nil
    }

    /// Reads timer-topic units `[from, to)`, writes one entry per message and puts pending ones in
    /// the heap. Units the store no longer has are passed over (nothing to deliver). Returns the
    /// queue offset reached.
    func ingest(from: Int64, to end: Int64) -> Int64 {
        var cursor = from
        while cursor < end, !store.isClosed {
            let result = store.getMessages(
                topic: SystemNames.timerTopic, queueId: 0, offset: QueueOffset(cursor), maximumCount: min(Self.ingestBatch, Int(end - cursor)))
            for (slice, offset) in zip(result.records, result.queueOffsets) {
                record(slice, at: offset.rawValue)
            }
            let next = result.nextBeginOffset.rawValue
            guard next > cursor else { break }
            cursor = min(next, max(end, cursor))
        }
        return cursor
    }

    /// Writes the entry of the parked message `slice` at timer-log index `index`.
    private func record(_ slice: StoredRecordSlice, at index: Int64) {
        let properties = try? slice.withUnsafeBytes { try StoredMessageCodec.decodeProperties($0) }
        var entry = TimerLog.Entry(
            deliverAtMilliseconds: 0, commitLogOffset: slice.commitLogOffset.rawValue, size: Int32(slice.count))
        if let properties, properties[PropertyKey.realTopic] != nil {
            // A parked message without a readable TIMER_OUT_MS is delivered at once rather than lost.
            entry.deliverAtMilliseconds = TimerMessages.parkedDeliverTime(properties) ?? 0
        } else {
            logger.error("a timer-topic message without REAL_TOPIC is skipped", metadata: ["index": "\(index)"])
            entry.state = .skipped
        }
        do { try log.write(entry, at: index) } catch {
            // Without its entry the timer still fires from memory; after a restart it is derived again.
            logger.error("writing a timer-log entry failed", metadata: ["index": "\(index)", "error": "\(error)"])
        }
        if entry.state == .pending {
            state.withLock { $0.heap.insert(.init(deliverAt: entry.deliverAtMilliseconds, index: index)) }
        }
    }
}
