import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import ServiceLifecycle
import Synchronization

/// A running broker: message store, metadata tables, the remoting server answering clients, and
/// the housekeeping loops. `open` makes it reachable; `run` (as a swift-service-lifecycle Service)
/// runs the loops until graceful shutdown and then shuts the broker down in order.
public final class BrokerController: Service, Sendable {
    /// The configuration, with `listenPort` set to the bound port.
    public let configuration: BrokerConfiguration
    /// Answers every request.
    public let handler: BrokerRequestHandler
    /// Registers with the name servers.
    public let registrar: NameServerRegistrar
    /// Delivers delayed messages (and retries) when due.
    public let schedule: ScheduleService
    /// Delivers timer messages (RocketMQ 5 arbitrary-time delivery) at their deliver time.
    public let timer: TimerService
    /// Sends transaction check-backs for unresolved half messages (`transactionCheckInterval`,
    /// `transactionTimeOut`, `transactionCheckMax`; RocketMQ's defaults 60 s, 6 s, 15).
    public let transactions: TransactionCheckService
    /// The listener.
    private let server: RemotingServer
    /// Connections to the name servers.
    private let client: RemotingClient
    /// Where the broker reports.
    private let logger: Logger
    /// Set once shutdown began, so it runs once.
    private let shutDown = Atomic<Bool>(false)

    /// How often committed offsets are written (Java's `flushConsumerOffsetInterval`).
    public static let offsetPersistInterval: Duration = .seconds(5)
    /// How often silent clients are looked for (Java's `ClientHousekeepingService`).
    public static let clientScanInterval: Duration = .seconds(10)

    /// The bound port.
    public var listenPort: Int { configuration.listenPort }
    /// The message store.
    public var store: MessageStore { handler.store }

    /// Private: use `open`.
    private init(configuration: BrokerConfiguration, handler: BrokerRequestHandler, registrar: NameServerRegistrar,
                 schedule: ScheduleService, timer: TimerService, transactions: TransactionCheckService,
                 server: RemotingServer, client: RemotingClient, logger: Logger) {
        self.configuration = configuration
        self.handler = handler
        self.registrar = registrar
        self.schedule = schedule
        self.timer = timer
        self.transactions = transactions
        self.server = server
        self.client = client
        self.logger = logger
    }

    /// Binds the server on `configuration.listenPort` (0 picks a free port), opens the store (with
    /// STOREHOST = brokerIP1 and the bound port) and loads the tables. On return the broker answers
    /// requests; call `run` for the loops, or `shutdown` to close it.
    public static func open(configuration: BrokerConfiguration, group: any EventLoopGroup, logger: Logger) async throws -> BrokerController {
        let gate = HandlerGate()
        let server = RemotingServer(
            host: "0.0.0.0", port: configuration.listenPort, group: group, handler: gate, logger: logger,
            onConnectionClosed: { gate.connectionClosed($0) })
        let port: Int
        do { port = try await server.start() } catch {
            throw BrokerError(.bindFailed, "cannot listen on port \(configuration.listenPort): \(error)")
        }
        var bound = configuration
        bound.listenPort = port
        do {
            let controller = try assemble(bound, server: server, group: group, logger: logger)
            gate.install(controller.handler)
            logger.info("broker open", metadata: [
                "broker": "\(bound.brokerName)", "address": "\(bound.brokerAddress)", "store": "\(bound.store.rootDirectory)",
            ])
            return controller
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Opens the store and tables and wires the handler, name-server registration and long polling.
    private static func assemble(
        _ configuration: BrokerConfiguration, server: RemotingServer, group: any EventLoopGroup, logger: Logger
    ) throws(BrokerError) -> BrokerController {
        var storeConfiguration = configuration.store
        guard let storeHost = MessageHost(configuration.brokerAddress) else {
            throw BrokerError(.invalidConfigurationValue, "brokerIP1 '\(configuration.brokerIP1)' is not an IPv4 address")
        }
        storeConfiguration.storeHost = storeHost
        let root = storeConfiguration.rootDirectory
        let topics = try TopicConfigTable(storeRoot: root, configuration: configuration)
        // Before the store opens: a store holding compressed bodies needs its compressor and dictionaries.
        let compression = try StoreBodyCompression.open(configuration.compression, storeRoot: root, logger: logger)
        let groups = try SubscriptionGroupTable(storeRoot: root, autoCreate: configuration.autoCreateSubscriptionGroup)
        let offsets = try ConsumerOffsetTable(storeRoot: root)
        let store: MessageStore
        do { store = try MessageStore.open(storeConfiguration, logger: logger) } catch {
            throw BrokerError(.storeFailure, "cannot open the message store: \(error)")
        }
        let client = RemotingClient(group: group, logger: logger)
        let addresses = configuration.nameServerAddresses.isEmpty
            ? ["127.0.0.1:\(configuration.nameServerListenPort)"] : configuration.nameServerAddresses
        let registrar = NameServerRegistrar(addresses: addresses, client: client, configuration: configuration, topics: topics, logger: logger)
        let longPolling = LongPollingService()
        let timer: TimerService
        do {
            timer = try TimerService(
                store: store, storeRoot: root, entriesPerFile: configuration.timerLogEntriesPerFile, compression: compression, logger: logger)
        } catch {
            try? store.close()
            throw error
        }
        store.addRetentionFloor { timer.retentionFloor() }
        store.setMessageArrivalListener { key, maximum in
            longPolling.messagesArrived(in: key, maximumOffset: maximum.rawValue)
            if key.topic == SystemNames.timerTopic { timer.wake() }
        }
        let handler = BrokerRequestHandler(
            configuration: configuration, store: store, topics: topics, subscriptionGroups: groups, offsets: offsets,
            clients: ClientRegistry(), longPolling: longPolling, compression: compression, logger: logger,
            onTopicsChanged: { registrar.requestRegistration() })
        let schedule: ScheduleService
        do {
            schedule = try ScheduleService(
                store: store, levels: configuration.messageDelayLevels, storeRoot: root, compression: compression, logger: logger)
        } catch {
            try? store.close()
            throw error
        }
        let transactions = TransactionCheckService(
            store: store, clients: handler.clients, table: handler.transactionOutcomes,
            interval: .milliseconds(configuration.transactionCheckInterval), timeout: configuration.transactionTimeOut,
            maximumChecks: configuration.transactionCheckMax, compression: compression, logger: logger)
        return BrokerController(
            configuration: configuration, handler: handler, registrar: registrar, schedule: schedule, timer: timer,
            transactions: transactions, server: server, client: client, logger: logger)
    }

    /// Registers with every name server now (after a topic change that must be visible at once).
    public func registerWithNameServers() async {
        await registrar.registerAll()
    }

    /// The housekeeping loops `run` runs.
    private var services: [any Service] {
        let handler = handler
        let registrar = registrar
        let logger = logger
        let period = Duration.milliseconds(min(max(configuration.registerNameServerPeriodMilliseconds, 10_000), 60_000))
        return [
            PeriodicService(name: "name-server registration", interval: period, runsImmediately: true, logger: logger) {
                await registrar.registerAll()
            },
            PeriodicService(name: "consumer offset persistence", interval: Self.offsetPersistInterval, logger: logger) {
                do { try handler.offsets.persist() } catch { logger.error("persisting consumer offsets failed", metadata: ["error": "\(error)"]) }
            },
            PeriodicService(name: "client expiry", interval: Self.clientScanInterval, logger: logger) {
                await handler.expireClients()
            },
            PeriodicService(name: "runtime statistics", interval: BrokerStatistics.sampleInterval, logger: logger) {
                handler.statistics.sample(now: System.nowMilliseconds())
            },
            PeriodicService(name: "compression housekeeping", interval: StoreBodyCompression.retirementInterval, logger: logger) {
                let store = handler.store
                handler.compression.retireDictionaries(
                    minimumOffset: store.minimumCommitLogOffset.rawValue, maximumOffset: store.maximumCommitLogOffset.rawValue)
                do { try handler.compression.persistCounters() } catch {
                    logger.error("persisting the body byte counters failed", metadata: ["error": "\(error)"])
                }
            },
            handler.longPolling,
            CleanService(store: handler.store),
            schedule,
            timer,
            transactions,
        ]
    }

    /// Runs the loops until graceful shutdown (or cancellation), then shuts the broker down:
    /// unregister from the name servers, stop the server, persist the tables, close the store.
    public func run() async throws {
        let logger = logger
        await withDiscardingTaskGroup { group in
            for service in services {
                group.addTask {
                    do { try await service.run() } catch {
                        logger.error("a broker service failed", metadata: ["service": "\(type(of: service))", "error": "\(error)"])
                    }
                }
            }
        }
        try await shutdown()
    }

    /// Shuts the broker down once: releases held pulls, unregisters from the name servers, closes the
    /// server and client connections, writes every table and closes the store. Every step runs even
    /// when an earlier one failed; the first failure is thrown at the end.
    public func shutdown() async throws {
        guard !shutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        logger.info("broker shutting down", metadata: ["broker": "\(configuration.brokerName)"])
        handler.longPolling.releaseAll()
        await registrar.unregisterAll()
        await server.shutdown()
        await client.shutdown()
        var failures: [BrokerError] = []
        do { try handler.offsets.persist(force: true) } catch { failures.append(error) }
        do { try handler.topics.persist() } catch { failures.append(error) }
        do { try handler.subscriptionGroups.persist() } catch { failures.append(error) }
        do { try handler.compression.persistCounters() } catch { failures.append(error) }
        do { try handler.transactionOutcomes.persistCheckCounts() } catch { failures.append(error) }
        schedule.persist()
        store.setMessageArrivalListener(nil)
        do { try store.close() } catch { failures.append(BrokerError(.storeFailure, "closing the message store failed: \(error)")) }
        // After the close every delivered copy is flushed, so the watermark can move to the end.
        timer.persist(force: true)
        for failure in failures { logger.error("shutdown step failed", metadata: ["error": "\(failure)"]) }
        if let first = failures.first { throw first }
        logger.info("broker shut down", metadata: ["broker": "\(configuration.brokerName)"])
    }
}

/// The server's request handler while the broker opens: the server has to listen first (with
/// `listenPort` 0 only binding tells the port, and the port is part of the store host), so requests
/// that arrive before the real handler is installed are answered SERVICE_NOT_AVAILABLE.
final class HandlerGate: RemotingRequestHandler {
    /// The real handler, once installed.
    private let target = Mutex<BrokerRequestHandler?>(nil)

    /// Installs the real handler.
    func install(_ handler: BrokerRequestHandler) {
        target.withLock { $0 = handler }
    }

    /// The installed handler, if any.
    var handler: BrokerRequestHandler? { target.withLock { $0 } }

    /// Forwards to the real handler, or refuses while the broker is still opening.
    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        guard let handler else {
            return request.response(code: .serviceNotAvailable, remark: "the broker is starting")
        }
        return await handler.handle(request, client: connection)
    }

    /// Forwards to the real handler's event-loop fast path; while opening, the request takes the
    /// task path, which refuses it.
    func handleOnEventLoop(_ request: RemotingCommand, from connection: RemotingConnection) -> EventLoopAnswer {
        handler?.handleOnEventLoop(request, from: connection) ?? .declined
    }

    /// Tells the real handler a connection closed (the server's callback runs on an event loop and
    /// must not block, so the work runs in a task).
    func connectionClosed(_ connection: RemotingConnection) {
        guard let handler else { return }
        Task { await handler.connectionClosed(connection) }
    }
}

/// Runs a piece of work every `interval` until graceful shutdown or cancellation: the broker's
/// housekeeping loops (offset persistence, client expiry, name-server registration). The work
/// handles its own failures (it logs them), so one bad round never ends the loop.
public struct PeriodicService: Service {
    /// For logs.
    public let name: String
    /// Time between the end of one round and the start of the next.
    public let interval: Duration
    /// Whether a round runs at once on start, before the first wait.
    public let runsImmediately: Bool
    /// One round.
    private let work: @Sendable () async -> Void
    /// Where start and stop are reported.
    private let logger: Logger

    /// A loop running `work` every `interval`.
    public init(
        name: String, interval: Duration, runsImmediately: Bool = false, logger: Logger,
        work: @escaping @Sendable () async -> Void
    ) {
        self.name = name
        self.interval = interval
        self.runsImmediately = runsImmediately
        self.logger = logger
        self.work = work
    }

    /// The loop; returns at graceful shutdown or cancellation.
    public func run() async throws {
        let work = work
        let interval = interval
        let runsImmediately = runsImmediately
        logger.debug("\(name) started", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            if runsImmediately { await work() }
            while !Task.isCancelled {
                // Graceful shutdown cancels the sleep: that is the normal way out.
                do { try await Task.sleep(for: interval) } catch { return }
                await work()
            }
        }
        logger.debug("\(name) stopped")
    }
}
