import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting

/// A message (or batch) ready for the wire: body possibly compressed, properties encoded, ids made.
struct PreparedMessage: Sendable {
    /// The target topic.
    var topic: String
    /// The body as sent (compressed, or the batch encoding).
    var body: ByteBuffer
    /// The header's properties (for a batch: the batch's own).
    var properties: MessageProperties
    /// MessageSysFlag bits: compressed, transaction prepared.
    var sysFlag: MessageSysFlag
    /// The user flag.
    var flag: Int32
    /// The `UNIQ_KEY` of each message (one for a single message).
    var uniqueKeys: [String]
    /// Whether `body` is a batch encoding.
    var isBatch: Bool
}

/// The send path: preparation, queue choice, retries, the SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE
/// frames and their answers (spec §8).
extension Producer {
    /// Broker answers after which Java retries on another queue (`retryResponseCodes`).
    static let retryableResponseCodes: Set<ResponseCode> = [
        .topicNotExist, .serviceNotAvailable, .systemError, .noPermission, .noBuyerId, .notInCurrentUnit,
    ]

    /// Validates `message` and turns it into its wire form with a fresh `UNIQ_KEY`.
    func prepare(_ message: ProducerMessage, transactional: Bool = false) throws(ClientError) -> PreparedMessage {
        try requireRunning()
        try MessageValidation.checkMessage(message, maximumSize: configuration.maximumMessageSize)
        let uniqueKey = nextUniqueKey()
        var properties = message.wireProperties(uniqueKey: uniqueKey)
        try Self.checkPropertiesLength(properties)
        var sysFlag = MessageSysFlag()
        let (body, isCompressed) = Self.compressedBody(
            message.body, threshold: configuration.compressBodyThreshold, level: configuration.compressionLevel)
        if isCompressed { sysFlag.compression = .zlib }
        if transactional {
            properties[PropertyKey.transactionPrepared] = "true"
            properties[PropertyKey.producerGroup] = configuration.group
            sysFlag.transaction = .prepared
        }
        return PreparedMessage(
            topic: message.topic, body: body, properties: properties, sysFlag: sysFlag, flag: message.flag,
            uniqueKeys: [uniqueKey], isBatch: false)
    }

    /// The body as sent: zlib-compressed at `level` when longer than `threshold` bytes and the result is
    /// smaller (a consumer inflates whatever is flagged), else unchanged; and whether it was compressed.
    static func compressedBody(_ body: ByteBuffer, threshold: Int, level: Int) -> (body: ByteBuffer, isCompressed: Bool) {
        guard body.readableBytes > threshold else { return (body, false) }
        let compressed = Deflate.zlib(Array(body.readableBytesView), level: level)
        guard compressed.count < body.readableBytes else { return (body, false) }
        return (ByteBuffer(bytes: compressed), true)
    }

    /// Throws the error `prepare` would throw for `message` (not running, bad topic, empty or oversized
    /// body, reserved or over-long properties) without sending anything, so a caller of `sendAsync`
    /// can report argument errors at once instead of through the completion.
    public func checkSendable(_ message: ProducerMessage) throws(ClientError) {
        try requireRunning()
        try MessageValidation.checkMessage(message, maximumSize: configuration.maximumMessageSize)
        // A stand-in UNIQ_KEY of the real one's length (32 hex digits) gives the same encoded length.
        try Self.checkPropertiesLength(message.wireProperties(uniqueKey: String(repeating: "0", count: 32)))
    }

    /// Validates `messages` and encodes them as one batch body (spec §8.4), each with its own `UNIQ_KEY`.
    func prepareBatch(_ messages: [ProducerMessage]) throws(ClientError) -> PreparedMessage {
        try requireRunning()
        guard let first = messages.first else { throw ClientError(.invalidArgument, "the batch is empty") }
        var entries: [(message: ProducerMessage, properties: MessageProperties)] = []
        var entryKeys: [String] = []
        for message in messages {
            try MessageValidation.checkMessage(message, maximumSize: configuration.maximumMessageSize)
            guard message.topic == first.topic else {
                throw ClientError(.invalidArgument, "all messages of a batch must have one topic; found \(first.topic) and \(message.topic)")
            }
            guard message.delayLevel == 0 else { throw ClientError(.invalidArgument, "messages of a batch cannot have a delay level") }
            guard !message.topic.hasPrefix("%RETRY%") else { throw ClientError(.invalidArgument, "retry topics do not accept batches") }
            let uniqueKey = nextUniqueKey()
            entryKeys.append(uniqueKey)
            let properties = message.wireProperties(uniqueKey: uniqueKey)
            try Self.checkPropertiesLength(properties)
            entries.append((message, properties))
        }
        let body = BatchEncoding.encode(entries.map { ($0.message.flag, $0.message.body, $0.properties) })
        guard body.readableBytes <= configuration.maximumMessageSize else {
            throw ClientError(
                .invalidArgument,
                "the encoded batch is \(body.readableBytes) bytes, more than the maximum message size of \(configuration.maximumMessageSize); split it")
        }
        var properties = MessageProperties()
        properties[PropertyKey.waitStoreMessageOK] = first.waitStoreMessageOK ? "true" : "false"
        properties[PropertyKey.uniqueKey] = nextUniqueKey()
        return PreparedMessage(
            topic: first.topic, body: body, properties: properties, sysFlag: MessageSysFlag(), flag: 0,
            uniqueKeys: entryKeys, isBatch: true)
    }

    /// Throws when the encoded properties exceed what the stored format's 16-bit length can hold.
    static func checkPropertiesLength(_ properties: MessageProperties) throws(ClientError) {
        let length = properties.encoded().count
        guard length <= StoredMessageLayout.maximumPropertiesLength else {
            throw ClientError(
                .invalidArgument,
                "the message's properties take \(length) bytes, more than the maximum of \(StoredMessageLayout.maximumPropertiesLength)")
        }
    }

    /// A fresh `UNIQ_KEY`.
    func nextUniqueKey() -> String {
        uniqueKeys.next(nowMilliseconds: Self.nowMilliseconds())
    }

    /// Sends with up to `attempts` tries on round-robin queues (the first on `firstQueue` when given),
    /// skipping the broker that just failed, all within `timeout`. `progress` continues a delivery
    /// whose first attempts were made elsewhere (`sendAsync`'s attempt without a task).
    func deliver(
        _ prepared: PreparedMessage, attempts: Int, timeout: Duration?, firstQueue: MessageQueue? = nil,
        progress: DeliveryProgress? = nil
    ) async throws(ClientError) -> SendResult {
        let budget = timeout ?? configuration.sendMessageTimeout
        let clock = ContinuousClock()
        let deadline = progress?.deadline ?? clock.now + budget
        var lastBroker = progress?.lastBroker
        var lastError = progress?.lastError
        var lastResult = progress?.lastResult
        for attempt in (progress?.attemptsMade ?? 0)..<max(attempts, progress?.attemptsMade ?? 0) {
            let remaining = deadline - clock.now
            guard remaining > .zero else { break }
            let queue: MessageQueue
            if attempt == 0, let firstQueue {
                queue = firstQueue
            } else {
                queue = try await nextQueue(for: prepared.topic, lastBroker: lastBroker)
            }
            let started = clock.now
            do throws(ClientError) {
                guard let result = try await sendRequest(prepared, to: queue, oneway: false, timeout: remaining) else {
                    throw ClientError(.malformedResponse, "no result for a two-way send")
                }
                faults.record(brokerName: queue.brokerName, latency: clock.now - started, failed: false)
                if result.status != .sendOK, configuration.retryAnotherBrokerWhenNotStoredOK, attempt + 1 < attempts {
                    lastResult = result
                    lastBroker = queue.brokerName
                    continue
                }
                return result
            } catch {
                faults.record(brokerName: queue.brokerName, latency: clock.now - started, failed: true)
                guard Self.isRetryable(error) else { throw error }
                instance.logger.debug("send attempt failed; retrying on another queue", metadata: [
                    "queue": "\(queue)", "attempt": "\(attempt + 1)", "error": "\(error)",
                ])
                if error.responseCode == .topicNotExist { _ = try? await instance.refreshRoute(prepared.topic) }
                lastBroker = queue.brokerName
                lastError = error
            }
        }
        if let lastResult { return lastResult }
        let reason = lastError.map { "; last error: \($0)" } ?? ""
        let code = lastError?.code == .timeout || lastError == nil ? ClientError.Code.timeout : lastError!.code
        throw ClientError(
            code, "sending to topic \(prepared.topic) failed within \(budget) after \(attempts) attempt(s) at most\(reason)",
            responseCode: lastError?.responseCode, remark: lastError?.remark, address: lastError?.address)
    }

    /// Sends once to `queue`.
    func deliverOnce(_ prepared: PreparedMessage, to queue: MessageQueue, timeout: Duration) async throws(ClientError) -> SendResult {
        let clock = ContinuousClock()
        let started = clock.now
        do throws(ClientError) {
            guard let result = try await sendRequest(prepared, to: queue, oneway: false, timeout: timeout) else {
                throw ClientError(.malformedResponse, "no result for a two-way send")
            }
            faults.record(brokerName: queue.brokerName, latency: clock.now - started, failed: false)
            return result
        } catch {
            faults.record(brokerName: queue.brokerName, latency: clock.now - started, failed: Self.isRetryable(error))
            throw error
        }
    }

    /// Whether a failed attempt may be repeated on another queue.
    static func isRetryable(_ error: ClientError) -> Bool {
        switch error.code {
        case .connectionFailed, .timeout, .brokerNotFound: return true
        case .brokerError: return error.responseCode.map { retryableResponseCodes.contains($0) } ?? false
        default: return false
        }
    }

    /// The queue `selector` picks for `message` (as the application wrote it: tags, keys and the
    /// uncompressed body) among `prepared.topic`'s publish queues.
    func select(
        _ prepared: PreparedMessage, message: ProducerMessage, selector: any MessageQueueSelector, argument: SelectorArgument
    ) async throws(ClientError) -> MessageQueue {
        let queues = try await publishRoute(prepared.topic).publishQueues
        let queue = try selector.checkedSelect(from: queues, message: message, argument: argument)
        guard queues.contains(queue) else {
            throw ClientError(.invalidArgument, "the selector chose \(queue), which is not a writable queue of topic \(prepared.topic)")
        }
        return queue
    }

    /// The next round-robin queue of `topic`, avoiding failed brokers and `lastBroker`.
    func nextQueue(for topic: String, lastBroker: String?) async throws(ClientError) -> MessageQueue {
        let queues = try await publishRoute(topic).publishQueues
        return faults.pick(from: queues, topic: topic, lastBroker: lastBroker)
    }

    /// `topic`'s route with at least one writable queue: the cached or fetched route, or the template
    /// route when the name servers do not know the topic yet (the broker then auto-creates it).
    func publishRoute(_ topic: String) async throws(ClientError) -> TopicRoute {
        var route: TopicRoute
        do {
            route = try await instance.topicRoute(topic)
            if route.publishQueues.isEmpty { route = try await instance.refreshRoute(topic) }
        } catch where error.code == .topicNotFound {
            route = try await instance.templateRoute(
                for: topic, template: configuration.templateTopic, queueCount: configuration.defaultTopicQueueNumbers)
        }
        guard !route.publishQueues.isEmpty else {
            throw ClientError(.noQueueAvailable, "topic \(topic) has no writable queue on a broker with a master")
        }
        return route
    }

    /// Milliseconds since the epoch.
    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
