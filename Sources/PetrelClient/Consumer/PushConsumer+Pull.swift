import PetrelCore
import PetrelRemoting

/// The per-queue pull loop: long polling with flow control.
extension PushConsumer {
    /// Pulls `queue` from `offset` until the queue is dropped or the consumer stops.
    func pullLoop(_ queue: MessageQueue, processQueue: ProcessQueue, from offset: Int64) async {
        guard let subscription = subscriptions[queue.topic] else { return }
        var nextOffset = offset
        while !Task.isCancelled, !processQueue.isDropped {
            if processQueue.flowControl(configuration.processQueueLimits) != nil {
                // Java re-checks after 50 ms; deliveries drain the cache meanwhile.
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            if listener.isOrderly, !processQueue.isLockValid() {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let commitOffset = configuration.messageModel == .clustering ? offsetStore.offset(of: queue) : nil
            let request = ConsumerRequests.pull(
                group: configuration.group, queue: queue, offset: nextOffset, maxMessages: configuration.pullBatchSize,
                subscription: subscription, commitOffset: commitOffset, suspend: configuration.pullSuspendTimeout,
                acceptsCompression: decompressor != nil)
            do {
                guard let address = client.masterAddress(brokerName: queue.brokerName) else {
                    throw ClientError(.brokerNotFound, "no master address known for broker \(queue.brokerName)")
                }
                let started = ContinuousClock.now
                let response = try await client.invoke(
                    address: address, request: request, timeout: configuration.pullSuspendTimeout + .seconds(15))
                let result = try await PullResponseDecoder.decode(
                    response, queue: queue, subscription: subscription, decompressor: decompressor, address: address)
                statistics.recordPull(topic: queue.topic, messages: result.messages.count, milliseconds: Self.milliseconds(since: started))
                guard !processQueue.isDropped else { return }
                nextOffset = result.nextBeginOffset
                switch result.status {
                case .found where !result.messages.isEmpty:
                    processQueue.put(result.messages)
                    dispatch(result.messages, queue: queue, processQueue: processQueue)
                case .found, .noNewMessages, .noMatchedMessages:
                    // Nothing in flight means everything before nextBeginOffset is consumed or filtered out.
                    if processQueue.messageCount == 0 { offsetStore.update(queue, offset: nextOffset, increaseOnly: true) }
                case .offsetIllegal:
                    logger.warning("offset of \(queue) moved to \(nextOffset)")
                    offsetStore.update(queue, offset: nextOffset, increaseOnly: false)
                }
            } catch {
                if Task.isCancelled || processQueue.isDropped { return }
                logger.debug("pull of \(queue) failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: configuration.pullRetryDelay)
            }
        }
    }

    /// Whole milliseconds from `start` to now, for the statistics.
    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    /// Hands newly pulled messages to the delivery mode.
    func dispatch(_ messages: [ReceivedMessage], queue: MessageQueue, processQueue: ProcessQueue) {
        guard !messages.isEmpty else { return }
        switch listener {
        case .orderly:
            _ = state.withLockedValue { $0.orderlyWakeups[queue] }?.yield()
        case .concurrently:
            let batchSize = max(1, configuration.consumeMessageBatchMaxSize)
            for start in stride(from: 0, to: messages.count, by: batchSize) {
                let batch = Array(messages[start..<min(start + batchSize, messages.count)])
                startDelivery(batch, queue: queue, processQueue: processQueue)
            }
        }
    }
}
