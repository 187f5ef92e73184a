import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import Synchronization

/// The broker's request processors (Java's `SendMessageProcessor`, `PullMessageProcessor`,
/// `ConsumerManageProcessor`, `ClientManageProcessor` and the admin processor in one place): it
/// routes each request by code and answers it.
///
/// It never throws and never traps on input: every failure becomes a response whose remark says
/// what was wrong (a missing or malformed header field is named). Each code's processing lives in
/// an extension file: `+Send`, `+Pull`, `+Offsets`, `+Clients`, `+Admin`.
public final class BrokerRequestHandler: RemotingRequestHandler {
    /// The broker's settings (with the bound port filled in).
    public let configuration: BrokerConfiguration
    /// The message store.
    public let store: MessageStore
    /// Topics.
    public let topics: TopicConfigTable
    /// Consumer groups' settings.
    public let subscriptionGroups: SubscriptionGroupTable
    /// Committed offsets.
    public let offsets: ConsumerOffsetTable
    /// Connected producers and consumers.
    public let clients: ClientRegistry
    /// Held pulls.
    public let longPolling: LongPollingService
    /// Orderly-consumption queue locks (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ).
    public let queueLocks = QueueLockTable()
    /// Message totals and rates for GET_BROKER_RUNTIME_INFO; the clock starts when the handler is made.
    public let statistics = BrokerStatistics()
    /// One outcome per transactional half message, rebuilt from the op topic when the handler is made.
    public let transactionOutcomes: TransactionOutcomeTable
    /// Store compression: the compressor, dictionaries and per-topic byte counters.
    public let compression: StoreBodyCompression
    /// Called after a topic was created, changed or deleted, so the broker re-registers with the
    /// name servers at once and clients find the route (spec §6.1). Must return quickly.
    let onTopicsChanged: @Sendable () -> Void
    /// Where the handler reports.
    let logger: Logger
    /// Sends taken on by the event loop and answered from their flush's completion (`SYNC_FLUSH`),
    /// as opposed to answered at once or run in a task; for observability and tests.
    let sendsAnsweredAfterFlush = Atomic<Int>(0)

    /// Longest a pull is held, whatever the client asks for: keeps a held pull well inside every
    /// client's own timeout (30 s for C++ and Java push consumers).
    public static let maximumSuspend: Duration = .seconds(20)
    /// Hold time when `longPollingEnable` is off (Java's `shortPollingTimeMills`).
    public static let shortPollingSuspend: Duration = .seconds(1)
    /// Most messages one pull returns (Java's `maxTransferCountOnMessageInMemory`).
    public static let maximumPullCount = 32
    /// Most bytes one pull returns (Java's `maxTransferBytesOnMessageInMemory`).
    public static let maximumPullBytes = 256 * 1024
    /// `MSG_REGION` answered on sends (Java's default region).
    static let messageRegion = "DefaultRegion"
    /// Request version from which a send's `maxReconsumeTimes` is honoured (`V3_4_9`, spec §14).
    static let maxReconsumeTimesVersion: Int32 = 121

    /// A handler over the broker's parts.
    public init(
        configuration: BrokerConfiguration, store: MessageStore, topics: TopicConfigTable,
        subscriptionGroups: SubscriptionGroupTable, offsets: ConsumerOffsetTable, clients: ClientRegistry,
        longPolling: LongPollingService, compression: StoreBodyCompression, logger: Logger,
        onTopicsChanged: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.compression = compression
        self.store = store
        transactionOutcomes = TransactionOutcomeTable(rebuildingFrom: store)
        self.topics = topics
        self.subscriptionGroups = subscriptionGroups
        self.offsets = offsets
        self.clients = clients
        self.longPolling = longPolling
        self.logger = logger
        self.onTopicsChanged = onTopicsChanged
    }

    /// The remoting entry point: answers `request` from `connection`.
    public func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        await handle(request, client: connection)
    }

    /// The event-loop fast path: sends (see `sendOnEventLoop`); the rest is declined.
    public func handleOnEventLoop(_ request: RemotingCommand, from connection: RemotingConnection) -> EventLoopAnswer {
        sendOnEventLoop(request, client: connection)
    }

    /// Answers `request` from `client`; the response code and remark say how it went.
    public func handle(_ request: RemotingCommand, client: any ClientChannel) async -> RemotingCommand {
        do {
            return try await route(request, client: client)
        } catch {
            return refusal(request, error, client: client)
        }
    }

    /// Runs the processor of `request`'s code.
    private func route(_ request: RemotingCommand, client: any ClientChannel) async throws(RequestFailure) -> RemotingCommand {
        switch request.requestCode {
        case .sendMessage, .sendMessageV2, .sendBatchMessage: return try await send(request, client: client)
        case .pullMessage: return try await pull(request, client: client)
        case .consumerSendMsgBack, .updateAndCreateSubscriptiongroup: return try await sendBackOrGroupAdmin(request)
        case .queryConsumerOffset: return try queryConsumerOffset(request)
        case .updateConsumerOffset: return try updateConsumerOffset(request)
        case .getMaxOffset: return try maximumOffset(request)
        case .getMinOffset: return try minimumOffset(request)
        case .searchOffsetByTimestamp: return try searchOffset(request)
        case .getEarliestMsgStoretime: return try earliestStoreTime(request)
        case .heartBeat: return try await heartbeat(request, client: client)
        case .endTransaction: return try await endTransaction(request)
        case .unregisterClient: return try await unregisterClient(request, client: client)
        case .getConsumerListByGroup: return try consumerList(request)
        case .updateAndCreateTopic: return try updateAndCreateTopic(request)
        case .deleteTopicInBroker: return try deleteTopic(request)
        case .getAllTopicConfig: return allTopicConfig(request)
        case .getAllConsumerOffset: return request.response(body: ByteBuffer(bytes: offsets.serialized.serialized()))
        case .getAllSubscriptiongroupConfig: return request.response(body: ByteBuffer(bytes: subscriptionGroups.serialized.serialized()))
        case .getConsumerRunningInfo: return try await consumerRunningInfo(request)
        case .invokeBrokerToResetOffset: return try await resetOffsetByTime(request)
        case .invokeBrokerToGetConsumerStatus: return try await consumerStatus(request)
        case .consumeMessageDirectly: return try await consumeMessageDirectly(request)
        case .lockBatchMq: return try lockBatch(request)
        case .unlockBatchMq: return try unlockBatch(request)
        case .queryMessage: return try queryMessage(request)
        case .viewMessageById: return try viewMessageById(request)
        case .getBrokerRuntimeInfo: return brokerRuntimeInfo(request)
        case .deleteSubscriptiongroup: return try deleteSubscriptionGroup(request)
        case .petrelGetCompressionDictionary: return try compressionDictionary(request)
        default:
            throw RequestFailure(.requestCodeNotSupported, " request type \(request.code) not supported")
        }
    }

    /// Refuses writes on a slave or a closed store (SERVICE_NOT_AVAILABLE, as Java answers).
    func checkWritable() throws(RequestFailure) {
        if configuration.brokerRole == .slave {
            throw RequestFailure(.serviceNotAvailable, "the broker[\(configuration.brokerIP1)] is a slave and accepts no messages")
        }
        if store.isClosed {
            throw RequestFailure(.serviceNotAvailable, "the broker's message store is shut down")
        }
    }

    /// The topic named in a request, which must exist.
    func existingTopic(_ name: String) throws(RequestFailure) -> TopicConfig {
        guard let topic = topics.topic(name) else {
            throw RequestFailure(.topicNotExist, "topic[\(name)] not exist, apply first please!")
        }
        return topic
    }

    /// Logs a metadata write that failed after an in-memory change; the change stays and the next
    /// successful write of the table includes it.
    func report(_ failure: BrokerError?, while action: String) {
        guard let failure else { return }
        logger.error("\(action): the change is kept in memory but not yet on disk", metadata: ["error": "\(failure)"])
    }

    /// Tells the broker that topics changed (it re-registers with the name servers).
    func topicsChanged() {
        onTopicsChanged()
    }

    /// Milliseconds since the epoch.
    var now: Int64 { System.nowMilliseconds() }
}

/// Why a request cannot be served: the response code and remark to answer with. The request
/// handler's steps throw it; the dispatcher turns it into the response, so no failure escapes.
struct RequestFailure: Error, Hashable, Sendable {
    /// The response code.
    var code: ResponseCode
    /// The remark, for the client's exception text.
    var remark: String

    /// A failure answered with `code` and `remark`.
    init(_ code: ResponseCode, _ remark: String) {
        self.code = code
        self.remark = remark
    }

    /// A header field that is missing or does not parse: SYSTEM_ERROR naming the field, as a Java
    /// broker answers a header it cannot decode.
    init(_ error: RemotingError) {
        self.init(.systemError, error.message)
    }
}

/// Typed reading of a request's header fields that fails with `RequestFailure`, so the handler's
/// steps can read fields with plain `try`. `names` maps a field's long name to the key actually
/// used, for SEND_MESSAGE_V2's one-letter keys (spec §8.2).
struct RequestFields {
    /// The request.
    let command: RemotingCommand
    /// Long name → key on the wire; names not in the map are used as they are.
    var names: [String: String] = [:]

    /// The key `name` travels under.
    private func key(_ name: String) -> String { names.isEmpty ? name : names[name] ?? name }

    /// A required text field.
    func string(_ name: String) throws(RequestFailure) -> String {
        do { return try command.string(key(name)) } catch { throw RequestFailure(error) }
    }

    /// An optional text field.
    func optionalString(_ name: String) -> String? {
        command.optionalString(key(name))
    }

    /// A required text field that must not be empty.
    func nonEmptyString(_ name: String) throws(RequestFailure) -> String {
        let value = try string(name)
        guard !value.isEmpty else { throw RequestFailure(.systemError, "the field \(key(name)) must not be empty") }
        return value
    }

    /// A required 32-bit integer.
    func int32(_ name: String) throws(RequestFailure) -> Int32 {
        do { return try command.int32(key(name)) } catch { throw RequestFailure(error) }
    }

    /// An optional 32-bit integer.
    func optionalInt32(_ name: String) throws(RequestFailure) -> Int32? {
        do { return try command.optionalInt32(key(name)) } catch { throw RequestFailure(error) }
    }

    /// A required 64-bit integer.
    func int64(_ name: String) throws(RequestFailure) -> Int64 {
        do { return try command.int64(key(name)) } catch { throw RequestFailure(error) }
    }

    /// An optional 64-bit integer.
    func optionalInt64(_ name: String) throws(RequestFailure) -> Int64? {
        do { return try command.optionalInt64(key(name)) } catch { throw RequestFailure(error) }
    }

    /// An optional boolean (`true`/`false`/`1`/`0`).
    func optionalBool(_ name: String) throws(RequestFailure) -> Bool? {
        do { return try command.optionalBool(key(name)) } catch { throw RequestFailure(error) }
    }
}
