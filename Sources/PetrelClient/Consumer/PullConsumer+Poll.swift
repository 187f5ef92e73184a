import PetrelCore
import PetrelRemoting

/// Subscribe-and-poll: automatic assignment, `poll`, and offset commits.
extension PullConsumer {
    /// The queues assigned to this client now.
    public var assignedQueues: Set<MessageQueue> { Set(state.withLockedValue { $0.assigned.keys }) }

    /// Messages from the assigned queues: pulls every assigned queue at once (long polling up to
    /// `timeout`) and returns what the first answering queues brought; empty when nothing arrived in
    /// time. Their offsets are committed by the next commit (every `offsetPersistInterval`, at shutdown).
    public func poll(timeout: Duration) async throws(ClientError) -> [ReceivedMessage] {
        let assigned = state.withLockedValue { $0.assigned }
        guard !assigned.isEmpty else {
            try? await Task.sleep(for: min(timeout, .milliseconds(200)))
            return []
        }
        // The broker holds each pull until a message arrives or the suspend time passes.
        let suspend = max(timeout - .milliseconds(200), .milliseconds(100))
        let results = await withTaskGroup(of: (MessageQueue, Int64, PullResult?).self) { group in
            for (queue, offset) in assigned {
                group.addTask { [self] in
                    guard let subscription = subscriptions[queue.topic] else { return (queue, offset, nil) }
                    do throws(ClientError) {
                        let result = try await pull(
                            queue: queue, offset: offset, maxMessages: configuration.pullBatchSize, subscription: subscription, suspend: suspend)
                        return (queue, offset, result)
                    } catch {
                        // The queue is pulled again at the same offset by the next poll.
                        if error.code == .pluginFailed { logger.error("poll of \(queue) failed: \(error)") }
                        return (queue, offset, nil)
                    }
                }
            }
            var collected: [(MessageQueue, Int64, PullResult)] = []
            while let (queue, offset, result) = await group.next() {
                guard let result else { continue }
                collected.append((queue, offset, result))
                if !result.messages.isEmpty {
                    // Answers already in are kept below; pulls still held are abandoned (their
                    // offsets do not move, so nothing is skipped).
                    group.cancelAll()
                }
            }
            return collected
        }
        var messages: [ReceivedMessage] = []
        state.withLockedValue { state in
            for (queue, offset, result) in results where state.assigned[queue] == offset {
                state.assigned[queue] = result.nextBeginOffset
                messages += result.messages
            }
        }
        for (queue, _, result) in results {
            offsetStore.update(queue, offset: result.nextBeginOffset, increaseOnly: result.status != .offsetIllegal)
        }
        return messages
    }

    /// Commits the offsets of the assigned queues up to what `poll` returned.
    public func commit() async {
        let queues = Array(state.withLockedValue { $0.assigned.keys })
        do {
            try await offsetStore.persist(queues)
        } catch {
            logger.warning("committing offsets failed", metadata: ["group": "\(configuration.group)", "error": "\(error)"])
        }
    }

    /// Recomputes the assignment of every subscribed topic; new queues start at their committed
    /// offset (else by `consumeFromWhere`), dropped ones are committed and forgotten.
    func rebalance() async {
        for topic in subscriptions.keys.sorted() {
            do {
                let route = try await client.topicRoute(topic)
                guard let brokerName = route.data.brokerDatas.first(where: { $0.masterAddress != nil })?.brokerName else { continue }
                let response = try await client.invoke(
                    brokerName: brokerName, request: ConsumerRequests.consumerList(group: configuration.group),
                    timeout: configuration.requestTimeout)
                guard response.responseCode == .success else { continue }
                let clientIds = try ConsumerRequests.consumerIds(response)
                let mine = Set(try configuration.allocationStrategy.checkedAllocate(
                    group: configuration.group, currentClientId: clientId, allClientIds: clientIds, allQueues: route.subscribeQueues))
                await apply(mine, topic: topic)
            } catch let error as ClientError where error.code == .pluginFailed {
                logger.error("rebalance of \(topic) refused the allocation plugin's answer", metadata: ["error": "\(error)"])
            } catch {
                logger.debug("rebalance of \(topic) skipped", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Moves `topic`'s assignment to `mine`.
    private func apply(_ mine: Set<MessageQueue>, topic: String) async {
        let current = Set(state.withLockedValue { $0.assigned.keys.filter { $0.topic == topic } })
        let dropped = current.subtracting(mine)
        if !dropped.isEmpty {
            try? await offsetStore.persist(Array(dropped))
            state.withLockedValue { state in for queue in dropped { state.assigned[queue] = nil } }
            for queue in dropped { offsetStore.remove(queue) }
        }
        for queue in mine.subtracting(current).sorted() {
            do {
                let offset = try await startOffset(of: queue)
                state.withLockedValue { $0.assigned[queue] = offset }
            } catch {
                logger.warning("no starting offset for \(queue)", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The committed offset of `queue`, else the start `consumeFromWhere` names.
    private func startOffset(of queue: MessageQueue) async throws -> Int64 {
        if let committed = try await offsetStore.fetchStoredOffset(of: queue), committed >= 0 { return committed }
        switch configuration.consumeFromWhere {
        case .consumeFromFirstOffset, .consumeFromMinOffset: return 0
        case .consumeFromTimestamp: return try await searchOffset(of: queue, timestamp: configuration.consumeTimestamp)
        default: return try await maxOffset(of: queue)
        }
    }

    /// Starts the rebalance loop (timer or notification) and the commit loop.
    func startBackgroundLoops() {
        let (triggers, trigger) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let rebalanceLoop = Task { [weak self] in
            for await _ in triggers {
                guard let self else { return }
                await self.rebalance()
            }
        }
        let timer = Task { [interval = configuration.rebalanceInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                trigger.yield()
            }
        }
        let committer = Task { [weak self, interval = configuration.offsetPersistInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.commit()
            }
        }
        state.withLockedValue { state in
            state.rebalanceTrigger = trigger
            state.backgroundTasks += [rebalanceLoop, timer, committer]
        }
    }
}
