import PetrelCore
import PetrelRemoting

/// Where a delivery stands after attempts made outside `deliver`: what `deliver` needs to carry on
/// with the rest of the attempts as if it had made those itself.
struct DeliveryProgress: Sendable {
    /// Attempts already made.
    var attemptsMade: Int
    /// When the whole delivery must be over.
    var deadline: ContinuousClock.Instant
    /// The broker of the last attempt, skipped by the next.
    var lastBroker: String?
    /// The last attempt's error, if it failed.
    var lastError: ClientError?
    /// The last attempt's result, if it was answered but not stored OK.
    var lastResult: SendResult?
}

/// `sendAsync` without a task: when the topic's route and the broker's connection are known, the
/// first attempt is written from the caller's thread and its answer handled on the connection's event
/// loop. A task per send, its continuation and the hops between the event loop and the cooperative
/// pool were about a quarter of the client's CPU per message in a pipelined run. Retries and
/// everything that has to wait (a route fetch, a connect) continue in a task through `deliver`.
extension Producer {
    /// Sends `prepared` with up to `attempts` tries within `timeout` and reports to `completion`,
    /// which runs on a network event loop when the first attempt settles the send (it must not block).
    func deliverInBackground(
        _ prepared: PreparedMessage, attempts: Int, timeout: Duration?,
        completion: @escaping @Sendable (Result<SendResult, ClientError>) -> Void
    ) {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + (timeout ?? configuration.sendMessageTimeout)
        guard let queues = instance.routes.route(prepared.topic)?.publishQueues, !queues.isEmpty else {
            continueInTask(prepared, attempts: attempts, timeout: timeout, progress: nil, completion: completion)
            return
        }
        let queue = faults.pick(from: queues, topic: prepared.topic, lastBroker: nil)
        guard let address = instance.masterAddress(brokerName: queue.brokerName) else {
            continueInTask(prepared, attempts: attempts, timeout: timeout, progress: nil, completion: completion)
            return
        }
        let request = sendCommand(prepared, queueId: queue.queueId)
        instance.invoke(address: address, request: request, timeout: deadline - started) { outcome in
            let latency = clock.now - started
            var progress = DeliveryProgress(attemptsMade: 1, deadline: deadline, lastBroker: queue.brokerName)
            do throws(ClientError) {
                let result = try Self.sendResult(outcome.get(), prepared: prepared, queue: queue, address: address)
                self.faults.record(brokerName: queue.brokerName, latency: latency, failed: false)
                guard result.status != .sendOK, self.configuration.retryAnotherBrokerWhenNotStoredOK, attempts > 1 else {
                    completion(.success(result))
                    return
                }
                progress.lastResult = result
            } catch {
                self.faults.record(brokerName: queue.brokerName, latency: latency, failed: true)
                guard Self.isRetryable(error) else {
                    completion(.failure(error))
                    return
                }
                // `deliver` makes the remaining attempts, or builds its "failed after n attempts" error.
                progress.lastError = error
            }
            self.continueInTask(prepared, attempts: attempts, timeout: timeout, progress: progress, completion: completion)
        }
    }

    /// Runs `deliver` in a task, carrying on from `progress`, and reports to `completion`.
    private func continueInTask(
        _ prepared: PreparedMessage, attempts: Int, timeout: Duration?, progress: DeliveryProgress?,
        completion: @escaping @Sendable (Result<SendResult, ClientError>) -> Void
    ) {
        Task {
            if let error = progress?.lastError {
                instance.logger.debug("send attempt failed; retrying on another queue", metadata: [
                    "topic": "\(prepared.topic)", "broker": "\(progress?.lastBroker ?? "")", "attempt": "1", "error": "\(error)",
                ])
                if error.responseCode == .topicNotExist { _ = try? await instance.refreshRoute(prepared.topic) }
            }
            do throws(ClientError) {
                completion(.success(try await deliver(prepared, attempts: attempts, timeout: timeout, progress: progress)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}
