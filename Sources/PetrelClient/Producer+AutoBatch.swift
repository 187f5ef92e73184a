import NIOCore
import PetrelCore

/// One asynchronous send waiting for an automatic batch.
struct AutoBatchEntry: Sendable {
    /// Estimated bytes besides the body an entry adds to a batch body: the entry's fixed fields plus
    /// typical properties (`UNIQ_KEY`, tags, keys). An underestimate only costs a fallback (see
    /// `Producer.sendAutoBatch`).
    static let estimatedOverhead = BatchEncoding.fixedSize + 256

    /// The message, validated.
    var message: ProducerMessage
    /// The caller's time budget, nil for `sendMessageTimeout`.
    var timeout: Duration?
    /// The caller's callback, called exactly once.
    var completion: @Sendable (Result<SendResult, ClientError>) -> Void
    /// Estimated bytes in a batch body.
    var size: Int
}

/// The automatic batching state of one topic.
struct AutoBatchTopic: Sendable {
    /// Sends not yet handed to a sender, in call order.
    var pending: [AutoBatchEntry] = []
    /// Sender tasks running; each has at most one request in flight.
    var senders = 0
    /// Most senders: the topic's writable queue count once known, so each sender owns a queue.
    var senderLimit = 1
    /// Queues with a request in flight: a sender never picks one, which keeps each queue's messages
    /// in call order (a retry after a failure may still land on a busy queue, as retries reorder in Java).
    var busyQueues: Set<MessageQueue> = []

    /// Removes and returns the next batch: the oldest pending entries up to the limits (at least one).
    mutating func takeBatch(maximumMessages: Int, maximumBytes: Int) -> [AutoBatchEntry]? {
        guard !pending.isEmpty else { return nil }
        var count = 1
        var bytes = pending[0].size
        while count < pending.count, count < maximumMessages, bytes + pending[count].size <= maximumBytes {
            bytes += pending[count].size
            count += 1
        }
        let batch = Array(pending[..<count])
        pending.removeFirst(count)
        return batch
    }
}

extension ProducerConfiguration {
    /// The bytes an automatic batch may hold: `autoBatchMaximumBytes`, within `maximumMessageSize`.
    var autoBatchByteLimit: Int { min(autoBatchMaximumBytes, maximumMessageSize) }
}

/// The automatic batching state of a producer, per topic.
struct AutoBatchTable: Sendable {
    /// State per topic.
    var topics: [String: AutoBatchTopic] = [:]
}

/// Natural batching of `sendAsync` (`ProducerConfiguration.autoBatch`): a message waits only while
/// every queue the producer may use for its topic has a request in flight, so there is no linger
/// timer and an idle producer's latency is unchanged. Each sender task sends a batch, then takes
/// the next one, until nothing is pending.
extension Producer {
    /// Whether `message` may travel in an automatic batch: not with a delay level (batches cannot
    /// carry one), not to a retry topic, not when it would be compressed or does not wait for the
    /// store (a batch shares one body and one `WAIT` property).
    func joinsAutoBatch(_ message: ProducerMessage) -> Bool {
        configuration.autoBatch && message.delayLevel == 0 && message.waitStoreMessageOK
            && message.body.readableBytes <= configuration.compressBodyThreshold
            && !message.topic.hasPrefix("%RETRY%")
    }

    /// Validates `message`, queues it, and starts a sender when the topic has room for one.
    func enqueueAutoBatch(
        _ message: ProducerMessage, timeout: Duration?, completion: @escaping @Sendable (Result<SendResult, ClientError>) -> Void
    ) {
        do throws(ClientError) {
            try requireRunning()
            try MessageValidation.checkMessage(message, maximumSize: configuration.maximumMessageSize)
        } catch {
            // Reported on a task of its own, as every other completion is.
            Task { completion(.failure(error)) }
            return
        }
        let entry = AutoBatchEntry(
            message: message, timeout: timeout, completion: completion,
            size: message.body.readableBytes + AutoBatchEntry.estimatedOverhead)
        let batch = autoBatches.withLock { table -> [AutoBatchEntry]? in
            Self.admit(entry, into: &table.topics[message.topic, default: AutoBatchTopic()], configuration: configuration)
        }
        if let batch { startAutoBatchSender(topic: message.topic, first: batch) }
    }

    /// Appends `entry`; returns a batch for a new sender when the topic may have one more.
    private static func admit(
        _ entry: AutoBatchEntry, into topic: inout AutoBatchTopic, configuration: ProducerConfiguration
    ) -> [AutoBatchEntry]? {
        topic.pending.append(entry)
        guard topic.senders < topic.senderLimit else { return nil }
        topic.senders += 1
        return topic.takeBatch(maximumMessages: configuration.autoBatchMaximumMessages, maximumBytes: configuration.autoBatchByteLimit)
    }

    /// Runs one sender: sends `first`, then each next batch, until nothing is pending.
    private func startAutoBatchSender(topic: String, first: [AutoBatchEntry]) {
        Task {
            var batch = first
            while true {
                await sendAutoBatch(batch, topic: topic)
                let (next, extra) = nextAutoBatches(topic: topic)
                for other in extra { startAutoBatchSender(topic: topic, first: other) }
                guard let next else { return }
                batch = next
            }
        }
    }

    /// The calling sender's next batch (nil ends it) and batches for extra senders the topic has room for.
    private func nextAutoBatches(topic name: String) -> (next: [AutoBatchEntry]?, extra: [[AutoBatchEntry]]) {
        let maximumMessages = configuration.autoBatchMaximumMessages
        let maximumBytes = configuration.autoBatchByteLimit
        return autoBatches.withLock { table in
            Self.drain(&table.topics[name, default: AutoBatchTopic()], maximumMessages: maximumMessages, maximumBytes: maximumBytes)
        }
    }

    /// See `nextAutoBatches`.
    private static func drain(
        _ topic: inout AutoBatchTopic, maximumMessages: Int, maximumBytes: Int
    ) -> (next: [AutoBatchEntry]?, extra: [[AutoBatchEntry]]) {
        guard let next = topic.takeBatch(maximumMessages: maximumMessages, maximumBytes: maximumBytes) else {
            topic.senders -= 1
            return (nil, [])
        }
        var extra: [[AutoBatchEntry]] = []
        while topic.senders < topic.senderLimit,
            let batch = topic.takeBatch(maximumMessages: maximumMessages, maximumBytes: maximumBytes)
        {
            topic.senders += 1
            extra.append(batch)
        }
        return (next, extra)
    }

    /// Sends `batch` on a queue no other sender is using and calls every entry's completion once.
    private func sendAutoBatch(_ batch: [AutoBatchEntry], topic: String) async {
        let queue: MessageQueue
        do throws(ClientError) {
            queue = try await claimQueue(topic: topic)
        } catch {
            for entry in batch { entry.completion(.failure(error)) }
            return
        }
        defer { autoBatches.withLock { _ = $0.topics[topic]?.busyQueues.remove(queue) } }
        let attempts = 1 + configuration.retryTimesWhenSendAsyncFailed
        let timeout = batch.compactMap(\.timeout).min()
        guard batch.count > 1 else {
            await sendAlone(batch[0], firstQueue: queue, attempts: attempts)
            return
        }
        let prepared: PreparedMessage
        do throws(ClientError) {
            prepared = try prepareBatch(batch.map(\.message))
        } catch {
            // The estimate was too low (large properties) or the producer stopped: each on its own.
            for entry in batch { await sendAlone(entry, firstQueue: queue, attempts: attempts) }
            return
        }
        do throws(ClientError) {
            let result = try await deliver(prepared, attempts: attempts, timeout: timeout, firstQueue: queue)
            autoBatchedMessages.add(batch.count, ordering: .relaxed)
            let offsetIds = result.offsetMessageId.split(separator: ",")
            for (index, entry) in batch.enumerated() {
                var single = result
                single.messageId = prepared.uniqueKeys[index]
                if offsetIds.count == batch.count { single.offsetMessageId = String(offsetIds[index]) }
                single.queueOffset = result.queueOffset + Int64(index)
                entry.completion(.success(single))
            }
        } catch {
            for entry in batch { entry.completion(.failure(error)) }
        }
    }

    /// Sends one entry as SEND_MESSAGE_V2, as a plain `sendAsync` would, first on `firstQueue`.
    private func sendAlone(_ entry: AutoBatchEntry, firstQueue: MessageQueue, attempts: Int) async {
        do throws(ClientError) {
            let prepared = try prepare(entry.message)
            entry.completion(.success(try await deliver(prepared, attempts: attempts, timeout: entry.timeout, firstQueue: firstQueue)))
        } catch {
            entry.completion(.failure(error))
        }
    }

    /// A writable queue of `topic` with no request of this producer in flight (round-robin, avoiding
    /// failed brokers), marked busy; also sizes the topic's sender limit to its queue count.
    private func claimQueue(topic: String) async throws(ClientError) -> MessageQueue {
        let queues = try await publishRoute(topic).publishQueues
        return autoBatches.withLock { table in
            let free = queues.filter { !(table.topics[topic]?.busyQueues.contains($0) ?? false) }
            let queue = faults.pick(from: free.isEmpty ? queues : free, topic: topic, lastBroker: nil)
            table.topics[topic, default: AutoBatchTopic()].busyQueues.insert(queue)
            table.topics[topic, default: AutoBatchTopic()].senderLimit = max(1, queues.count)
            return queue
        }
    }
}
