import PetrelCore
import PetrelRemoting

/// Rebalancing: which queues this client serves, and starting or stopping their loops.
extension PushConsumer {
    /// One rebalance over every subscribed topic; failures of one topic leave its queues as they are.
    func rebalance() async {
        var incomplete = false
        for topic in subscriptions.keys.sorted() {
            do {
                let assignment = try await assignment(of: topic)
                let actions = state.withLockedValue { $0.machine.assign(assignment, topic: topic) }
                await perform(actions)
            } catch let error as ClientError where error.code == .pluginFailed {
                incomplete = true
                logger.error("rebalance of \(topic) refused the allocation plugin's answer", metadata: ["group": "\(configuration.group)", "error": "\(error)"])
            } catch {
                // Typically the retry topic, which the broker creates at the first heartbeat and
                // the name server learns of a moment later.
                incomplete = true
                logger.debug("rebalance of \(topic) incomplete", metadata: ["group": "\(configuration.group)", "error": "\(error)"])
            }
        }
        if listener.isOrderly {
            await renewLocks()
            incomplete = incomplete || state.withLockedValue { $0.machine.queues.values.contains(.locking) }
        }
        if incomplete, isRunning { rebalanceAgainSoon() }
    }

    /// Asks for another rebalance after `rebalanceRetryDelay` instead of a whole `rebalanceInterval`,
    /// when a topic had no route yet or (orderly) another client still held a lock.
    func rebalanceAgainSoon() {
        Task { [weak self, delay = configuration.rebalanceRetryDelay] in
            try? await Task.sleep(for: delay)
            self?.requestRebalance()
        }
    }

    /// This client's share of `topic`'s queues: all of them when broadcasting, else the strategy's pick.
    func assignment(of topic: String) async throws -> Set<MessageQueue> {
        let route = try await client.topicRoute(topic)
        let queues = route.subscribeQueues
        guard configuration.messageModel == .clustering else { return Set(queues) }
        guard let brokerName = route.data.brokerDatas.first(where: { $0.masterAddress != nil })?.brokerName else { return [] }
        let response = try await client.invoke(
            brokerName: brokerName, request: ConsumerRequests.consumerList(group: configuration.group), timeout: configuration.requestTimeout)
        guard response.responseCode == .success else {
            throw ClientError.response(response, doing: "GET_CONSUMER_LIST_BY_GROUP", address: nil)
        }
        let clientIds = try ConsumerRequests.consumerIds(response)
        let mine = try configuration.allocationStrategy.checkedAllocate(
            group: configuration.group, currentClientId: client.clientId, allClientIds: clientIds, allQueues: queues)
        return Set(mine)
    }

    /// Carries out rebalance actions in order.
    func perform(_ actions: [RebalanceAction]) async {
        for action in actions {
            switch action {
            case .startPulling(let queue):
                await startPulling(queue)
            case .dropQueue(let queue, let commitOffset):
                await drop(queue, commitOffset: commitOffset)
            case .lock(let queues):
                let granted = await lock(queues)
                let next = state.withLockedValue { $0.machine.locksGranted(granted) }
                await perform(next)
            case .unlock(let queues):
                await unlock(queues)
            }
        }
    }

    /// Creates the queue's process queue, finds its starting offset (unless `given`, as after an offset
    /// reset) and starts its loops. When the offset cannot be found the queue is given back to the
    /// state machine for the next rebalance.
    func startPulling(_ queue: MessageQueue, from given: Int64? = nil) async {
        let offset: Int64
        do {
            if let given { offset = given } else { offset = try await initialOffset(of: queue) }
        } catch {
            logger.warning("no starting offset for \(queue)", metadata: ["error": "\(error)"])
            state.withLockedValue { $0.machine.forget(queue) }
            return
        }
        let processQueue = ProcessQueue(queue: queue)
        if listener.isOrderly { processQueue.setLocked(true) }
        state.withLockedValue { state in
            guard state.isRunning else { return }
            state.processQueues[queue] = processQueue
            state.pullTasks[queue] = Task { [weak self] in await self?.pullLoop(queue, processQueue: processQueue, from: offset) }
            if listener.isOrderly {
                let (wakeups, wakeup) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
                state.orderlyWakeups[queue] = wakeup
                state.orderlyTasks[queue] = Task { [weak self] in
                    await self?.orderlyLoop(queue, processQueue: processQueue, wakeups: wakeups)
                }
            }
        }
    }

    /// Where a newly assigned queue starts (Java's `computePullFromWhere`): the stored offset, else
    /// for the retry topic 0, else by `consumeFromWhere`.
    func initialOffset(of queue: MessageQueue) async throws -> Int64 {
        if let stored = try await offsetStore.fetchStoredOffset(of: queue), stored >= 0 { return stored }
        if queue.topic.hasPrefix(RetryTopics.retryPrefix) { return 0 }
        let request: RemotingCommand
        switch configuration.consumeFromWhere {
        case .consumeFromFirstOffset, .consumeFromMinOffset:
            return 0
        case .consumeFromTimestamp:
            request = ConsumerRequests.searchOffset(queue: queue, timestamp: configuration.consumeTimestamp)
        case .consumeFromLastOffset, .consumeFromLastOffsetAndFromMinWhenBootFirst, .consumeFromMaxOffset:
            request = ConsumerRequests.queueOffset(.getMaxOffset, queue: queue)
        }
        let response = try await client.invoke(brokerName: queue.brokerName, request: request, timeout: configuration.requestTimeout)
        guard response.responseCode == .success else {
            throw ClientError.response(response, doing: "offset request \(request.code) for \(queue)", address: nil)
        }
        return try response.int64("offset")
    }

    /// Stops the queue's loops, waits for its in-flight orderly delivery, commits its offset.
    func drop(_ queue: MessageQueue, commitOffset: Bool) async {
        await stopLoops(of: queue)
        do {
            try await offsetStore.persist([queue])
        } catch {
            logger.warning("committing the offset of dropped \(queue) failed", metadata: ["error": "\(error)"])
        }
        if commitOffset { offsetStore.remove(queue) }
    }

    /// Marks the queue's process queue dropped (deliveries still running then commit nothing), removes
    /// it and waits for its pull and orderly loops to end.
    func stopLoops(of queue: MessageQueue) async {
        let (processQueue, pull, orderly) = state.withLockedValue { state in
            state.orderlyWakeups.removeValue(forKey: queue)?.finish()
            return (
                state.processQueues.removeValue(forKey: queue), state.pullTasks.removeValue(forKey: queue),
                state.orderlyTasks.removeValue(forKey: queue)
            )
        }
        processQueue?.isDropped = true
        pull?.cancel()
        orderly?.cancel()
        await pull?.value
        await orderly?.value
    }

    /// LOCK_BATCH_MQ per broker; answers the queues granted.
    func lock(_ queues: [MessageQueue]) async -> Set<MessageQueue> {
        var granted = Set<MessageQueue>()
        for (brokerName, brokerQueues) in Dictionary(grouping: queues, by: \.brokerName) {
            let request = ConsumerRequests.lockBatch(.lockBatchMq, group: configuration.group, clientId: client.clientId, queues: brokerQueues)
            do {
                let response = try await client.invoke(brokerName: brokerName, request: request, timeout: configuration.requestTimeout)
                if response.responseCode == .success { granted.formUnion(try ConsumerRequests.lockedQueues(response)) }
            } catch {
                logger.warning("locking queues on \(brokerName) failed", metadata: ["error": "\(error)"])
            }
        }
        return granted
    }

    /// UNLOCK_BATCH_MQ per broker.
    func unlock(_ queues: [MessageQueue]) async {
        for (brokerName, brokerQueues) in Dictionary(grouping: queues, by: \.brokerName) {
            let request = ConsumerRequests.lockBatch(.unlockBatchMq, group: configuration.group, clientId: client.clientId, queues: brokerQueues)
            do {
                _ = try await client.invoke(brokerName: brokerName, request: request, timeout: configuration.requestTimeout)
            } catch {
                logger.warning("unlocking queues on \(brokerName) failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Orderly: renews the locks of every served queue; a queue whose renewal failed stops
    /// delivering until a later renewal succeeds.
    func renewLocks() async {
        let served = state.withLockedValue { $0.processQueues }
        guard !served.isEmpty else { return }
        let granted = await lock(Array(served.keys))
        for (queue, processQueue) in served {
            processQueue.setLocked(granted.contains(queue))
        }
    }
}
