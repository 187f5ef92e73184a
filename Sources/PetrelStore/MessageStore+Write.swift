import NIOCore
import PetrelCore

extension MessageStore {
    /// Appends one message. The store fills in queue offset, commit-log offset, store timestamp,
    /// store host and body CRC. Under `SYNC_FLUSH` it returns once the message is durable, unless the
    /// message's `WAIT` property is `false`.
    /// `format` is how the commit log stores it; readers get the same message either way.
    public func put(_ message: StoredMessage, format: StoredRecordFormat = .standard) async -> PutResult {
        await put(batch: [message], format: format)
    }

    /// Appends messages of one topic and queue contiguously, with consecutive queue offsets.
    public func put(batch messages: [StoredMessage], format: StoredRecordFormat = .standard) async -> PutResult {
        let (result, flushTarget) = putWithoutFlushWait(batch: messages, format: format)
        guard let flushTarget else { return result }
        let status = await flushService.waitForFlush(upTo: flushTarget)
        return PutResult(status: status, appended: result.appended)
    }

    /// Tells when the commit log is durable up to `offset` (a `flushTarget` of
    /// `putWithoutFlushWait`), without a task: returns the outcome when it is known at once
    /// (already durable, a sticky flush failure, the store closing) and then never calls
    /// `callback`; otherwise returns nil and calls `callback` exactly once with `.ok`,
    /// `.flushDiskTimeout` after `syncFlushTimeout`, `.flushFailed` or `.serviceNotAvailable`.
    /// `callback` runs on the store's flush thread (one round settles every waiter it covers), its
    /// timeout thread or the closing thread: it must only schedule work elsewhere, never block.
    public func whenFlushed(
        upTo offset: Int64, then callback: @escaping @Sendable (PutStatus) -> Void
    ) -> PutStatus? {
        flushService.whenFlushed(upTo: offset, then: callback)
    }

    /// Appends like `put(batch:)` without waiting: returns the result and, when the caller has to
    /// wait for a `SYNC_FLUSH` before answering, the commit-log offset to wait for (nil otherwise,
    /// always nil under `ASYNC_FLUSH`; `whenFlushed` waits for it without a task). Lets a broker
    /// answer sends on its event loop.
    public func putWithoutFlushWait(
        batch messages: [StoredMessage], format: StoredRecordFormat = .standard
    ) -> (result: PutResult, flushTarget: Int64?) {
        if isClosed { return (PutResult(status: .serviceNotAvailable), nil) }
        if let failure = flushService.stickyFailure { return (PutResult(status: .flushFailed(failure.description)), nil) }
        if diskFull.load(ordering: .relaxed) { return (PutResult(status: .diskFull), nil) }
        let batch: EncodedBatch
        do {
            batch = try EncodedBatch(
                messages.map(prepareForStore), maximumMessageSize: configuration.maximumMessageSize, format: format)
        } catch {
            return (PutResult(status: .messageIllegal(error.message)), nil)
        }
        guard batch.bytes.count + StoredMessageLayout.blankRecordSize <= configuration.commitLogSegmentSize else {
            return (PutResult(status: .messageIllegal(
                "batch of \(batch.bytes.count) bytes does not fit a \(configuration.commitLogSegmentSize)-byte segment")), nil)
        }
        let appended: AppendedRecords
        do { appended = try append(batch) } catch {
            logger.error("append failed: \(error)")
            return (PutResult(status: .ioFailure(error.description)), nil)
        }
        let waits = messages.first?.message.properties[PropertyKey.waitStoreMessageOK] != "false"
        guard configuration.flushMode == .sync, waits else {
            dispatcher.wake()
            return (PutResult(status: .ok, appended: appended), nil)
        }
        return (PutResult(status: .ok, appended: appended), appended.endOffset.rawValue)
    }

    /// Sets the fields the store owns. Bodies are opaque here: the broker compresses them (per
    /// topic, before `put`) and flags them in SYSFLAG itself.
    private func prepareForStore(_ original: StoredMessage) -> StoredMessage {
        var message = original
        message.storeHost = configuration.storeHost
        message.message.properties[PropertyKey.waitStoreMessageOK] = nil
        message.bodyCRC = message.message.body.withUnsafeReadableBytes { CRC32.bodyChecksum($0) }
        return message
    }

    /// Appends, creating segments outside the lock whenever the current one is full and the
    /// warmer has not created the next one yet.
    private func append(_ encoded: EncodedBatch) throws(StoreError) -> AppendedRecords {
        var batch = encoded
        while true {
            switch commitLog.append(&batch) {
            case .appended(let appended):
                flushService.noteAppend()
                return appended
            case .needsSegment(let offset):
                try commitLog.ensureSegment(at: offset)
            }
        }
    }
}
