import NIOCore
import PetrelCore
import PetrelRemoting

/// Delivery to the listener: concurrent batches, orderly queues, and sending failed messages back.
extension PushConsumer {
    /// Starts one concurrent delivery of `batch`, tracked so shutdown can wait for it.
    func startDelivery(_ batch: [ReceivedMessage], queue: MessageQueue, processQueue: ProcessQueue) {
        state.withLockedValue { state in
            let number = state.nextDeliveryNumber
            state.nextDeliveryNumber += 1
            state.deliveries[number] = Task { [self] in
                await deliverConcurrently(batch, queue: queue, processQueue: processQueue)
                _ = self.state.withLockedValue { $0.deliveries.removeValue(forKey: number) }
            }
        }
    }

    /// Calls the listener within the concurrency bound; on failure sends the batch back; then
    /// removes it from the process queue and records the new commit offset.
    func deliverConcurrently(_ batch: [ReceivedMessage], queue: MessageQueue, processQueue: ProcessQueue) async {
        await limiter.acquire()
        guard !processQueue.isDropped else {
            await limiter.release()
            return
        }
        // Undecodable bodies never reach the listener: they count as failed consumptions.
        let undecodable = batch.filter { $0.undecodableReason != nil }
        let decodable = batch.filter { $0.undecodableReason == nil }
        logUndecodable(undecodable)
        let status: ConsumeStatus
        let started = ContinuousClock.now
        if decodable.isEmpty {
            status = .success
        } else {
            status = await listener.body(decodable, ConsumeContext(queue: queue))
        }
        await limiter.release()
        var done = batch
        let failed = status == .reconsumeLater ? batch : undecodable
        statistics.recordConsume(topic: queue.topic, succeeded: batch.count - failed.count, failed: failed.count,
                                 milliseconds: Self.milliseconds(since: started))
        if !failed.isEmpty, configuration.messageModel == .clustering {
            var kept: [ReceivedMessage] = []
            for message in failed where await !sendBack(message, delayLevel: configuration.retryDelayLevel) {
                kept.append(message)
            }
            done = batch.filter { message in !kept.contains { $0.queueOffset == message.queueOffset } }
            if !kept.isEmpty { redeliverLater(kept, queue: queue, processQueue: processQueue) }
        }
        if let offset = processQueue.remove(done), !processQueue.isDropped {
            offsetStore.update(queue, offset: offset, increaseOnly: true)
        }
    }

    /// Messages that could be neither sent back nor resent stay cached and are delivered again
    /// locally after a pause (Java waits 5 s), so they are never lost.
    func redeliverLater(_ messages: [ReceivedMessage], queue: MessageQueue, processQueue: ProcessQueue) {
        state.withLockedValue { state in
            let number = state.nextDeliveryNumber
            state.nextDeliveryNumber += 1
            state.deliveries[number] = Task { [self, delay = configuration.suspendCurrentQueueTime] in
                try? await Task.sleep(for: delay)
                if isRunning { startDelivery(messages, queue: queue, processQueue: processQueue) }
                _ = self.state.withLockedValue { $0.deliveries.removeValue(forKey: number) }
            }
        }
    }

    /// Orderly: delivers `queue`'s messages one batch at a time while its lock is valid, retrying a
    /// failed batch locally and sending it to the dead-letter topic after `maxReconsumeTimes`.
    func orderlyLoop(_ queue: MessageQueue, processQueue: ProcessQueue, wakeups: AsyncStream<Void>) async {
        var iterator = wakeups.makeAsyncIterator()
        while !Task.isCancelled, !processQueue.isDropped {
            guard processQueue.isLockValid() else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            var batch = processQueue.takeMessages(max(1, configuration.consumeMessageBatchMaxSize))
            if batch.isEmpty {
                if await iterator.next() == nil { return }
                continue
            }
            await limiter.acquire()
            while true {
                // A batch holding an undecodable body fails without reaching the listener, so order
                // is kept; after maxReconsumeTimes it goes to the dead-letter topic.
                let undecodable = batch.filter { $0.undecodableReason != nil }
                logUndecodable(undecodable)
                var status = ConsumeStatus.reconsumeLater
                let started = ContinuousClock.now
                if undecodable.isEmpty { status = await listener.body(batch, ConsumeContext(queue: queue)) }
                statistics.recordConsume(topic: queue.topic, succeeded: status == .success ? batch.count : 0,
                                         failed: status == .success ? 0 : batch.count, milliseconds: Self.milliseconds(since: started))
                if status == .success { break }
                if batch.contains(where: { $0.reconsumeTimes >= configuration.maxReconsumeTimes }) {
                    // Dead-letter the batch: a negative delay level sends it straight to %DLQ% (spec §14).
                    for message in batch { _ = await sendBack(message, delayLevel: -1) }
                    break
                }
                for index in batch.indices { batch[index].stored.reconsumeTimes += 1 }
                try? await Task.sleep(for: configuration.suspendCurrentQueueTime)
                if processQueue.isDropped || !isRunning {
                    processQueue.returnTaken()
                    await limiter.release()
                    return
                }
            }
            await limiter.release()
            if let offset = processQueue.commitTaken() {
                offsetStore.update(queue, offset: offset, increaseOnly: true)
            }
        }
    }

    /// Logs messages whose bodies could not be decompressed (they are retried, never dropped silently).
    func logUndecodable(_ messages: [ReceivedMessage]) {
        for message in messages {
            logger.error("message \(message.messageId) cannot be decompressed; consumption failed: \(message.undecodableReason ?? "")")
        }
    }

    /// CONSUMER_SEND_MSG_BACK to the broker that stored `message`; when that fails, resends it as a
    /// new message to the retry topic (Java's fallback). False when both failed.
    func sendBack(_ message: ReceivedMessage, delayLevel: Int32) async -> Bool {
        let request = ConsumerRequests.sendBack(
            group: configuration.group, message: message, delayLevel: delayLevel, maxReconsumeTimes: configuration.maxReconsumeTimes)
        do {
            let response = try await client.invoke(address: message.storeHost.description, request: request, timeout: configuration.requestTimeout)
            if response.responseCode == .success { return true }
            logger.warning("send-back of \(message.messageId) refused: code \(response.code) \(response.remark ?? "")")
        } catch {
            logger.warning("send-back of \(message.messageId) failed", metadata: ["error": "\(error)"])
        }
        // An undecodable message's body is still the compressed envelope: resent as a new message it
        // would be stored as a plain body, so it stays cached and is sent back again later instead.
        guard message.undecodableReason == nil else { return false }
        return await resendToRetryTopic(message, delayLevel: delayLevel)
    }

    /// SEND_MESSAGE of a copy of `message` to `%RETRY%group` with reconsume times + 1; the broker
    /// moves it to the dead-letter topic when that reaches the maximum.
    func resendToRetryTopic(_ message: ReceivedMessage, delayLevel: Int32) async -> Bool {
        let retryTopic = RetryTopics.retryTopic(group: configuration.group)
        var properties = message.properties
        if properties[PropertyKey.retryTopic] == nil { properties[PropertyKey.retryTopic] = message.topic }
        if properties[PropertyKey.originMessageId] == nil { properties[PropertyKey.originMessageId] = message.messageId }
        properties[PropertyKey.delayLevel] = String(delayLevel > 0 ? delayLevel : 3 + message.reconsumeTimes)
        let reconsumeTimes = delayLevel < 0 ? configuration.maxReconsumeTimes : message.reconsumeTimes + 1
        let request = RemotingCommand.request(
            code: .sendMessage,
            extFields: [
                "producerGroup": "CLIENT_INNER_PRODUCER", "topic": retryTopic, "defaultTopic": "TBW102",
                "defaultTopicQueueNums": "4", "queueId": "-1", "sysFlag": "0",
                "bornTimestamp": String(message.bornTimestamp), "flag": String(message.flag),
                "properties": String(decoding: properties.encoded(), as: UTF8.self),
                "reconsumeTimes": String(reconsumeTimes), "unitMode": "false", "batch": "false",
                "maxReconsumeTimes": String(configuration.maxReconsumeTimes),
            ],
            body: message.body)
        do {
            let response = try await client.invoke(brokerName: message.brokerName, request: request, timeout: configuration.requestTimeout)
            return response.responseCode == .success
        } catch {
            logger.warning("resending \(message.messageId) to \(retryTopic) failed", metadata: ["error": "\(error)"])
            return false
        }
    }
}

/// An async semaphore: at most `limit` holders at once, the rest wait in arrival order.
/// It bounds how many deliveries run at the same time (`consumeThreadCount`).
actor ConcurrencyLimiter {
    /// Permits available.
    private var available: Int
    /// Waiters in arrival order.
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A limiter with `limit` (at least 1) permits.
    init(limit: Int) {
        available = max(1, limit)
    }

    /// Takes a permit, waiting for one if none is free.
    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Returns a permit, handing it straight to the longest waiter.
    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
