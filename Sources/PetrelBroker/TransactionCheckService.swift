import Logging
import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore
import ServiceLifecycle
import Synchronization

/// How a transactional half message ended.
public enum TransactionOutcome: String, Sendable, Hashable {
    /// Committed: the real message was stored in its topic.
    case commit
    /// Rolled back: never visible.
    case rollback
    /// Checked `transactionCheckMax` times without an answer; dropped like a rollback.
    case discard
}

/// The outcome of every resolved half message, keyed by its queue offset in
/// `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, so that exactly one outcome ever wins (spec §15).
///
/// Persistence: every outcome is written as an op record in `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0
/// (tag `d`, body = the half queue offset as decimal text, as Java writes it) with the extra property
/// `PETREL_TRAN_OUTCOME`; the table is rebuilt from that queue when a store is opened (an op record
/// without the property, e.g. from a Java broker, counts as resolved = rollback). The first op record
/// of an offset wins.
///
/// The request handler owns the table (built when the handler is made, so a reopened store gets a
/// freshly rebuilt one); the check service shares it.
public final class TransactionOutcomeTable: Sendable {
    /// Property carrying the outcome on an op record (Petrel extension; Java ignores it).
    public static let outcomeProperty = "PETREL_TRAN_OUTCOME"
    /// Tag of op records.
    public static let operationTag = "d"

    /// The store holding the half and op topics.
    public let store: MessageStore
    /// End of the commit log when the table was built: a half message below it may have been
    /// committed by an earlier process that stopped before writing the op record.
    public let openedAt: Int64
    /// Half queue offset → outcome.
    private let outcomes = Mutex<[Int64: TransactionOutcome]>([:])
    /// Check-backs sent so far per half queue offset, saved by `persistCheckCounts` so that a
    /// restart does not reset `transactionCheckMax`'s count.
    let checks = Mutex(CheckCounts())
    /// `<storeRoot>/config/transactionCheckCounts.json`.
    let checkCountsFile: MetadataFile
    /// Serialises writers of the counts file.
    let checkCountsPersistLock = Mutex(())
    /// Why the saved counts could not be read when the table was built (the counts then start
    /// from zero: at worst a half message is checked more often); the check service logs it.
    public let checkCountsLoadFailure: BrokerError?

    /// Reads every op record of `store`.
    public init(rebuildingFrom store: MessageStore) {
        self.store = store
        openedAt = store.maximumCommitLogOffset.rawValue
        var loaded: [Int64: TransactionOutcome] = [:]
        var offset = store.minimumOffset(topic: SystemNames.transactionOperationTopic, queueId: 0)
        let maximum = store.maximumOffset(topic: SystemNames.transactionOperationTopic, queueId: 0)
        while offset.rawValue < maximum.rawValue {
            let result = store.getMessages(
                topic: SystemNames.transactionOperationTopic, queueId: 0, offset: offset, maximumCount: 256)
            for slice in result.records {
                guard let message = try? slice.decode() else { continue }
                let text = message.message.body.getString(at: message.message.body.readerIndex, length: message.message.body.readableBytes) ?? ""
                guard let half = Int64(text) else { continue }
                let outcome = message.message.properties[Self.outcomeProperty].flatMap(TransactionOutcome.init(rawValue:)) ?? .rollback
                if loaded[half] == nil { loaded[half] = outcome }
            }
            if result.nextBeginOffset.rawValue <= offset.rawValue { break }
            offset = result.nextBeginOffset
        }
        outcomes.withLock { $0 = loaded }
        checkCountsFile = MetadataFile(storeRoot: store.configuration.rootDirectory, name: Self.checkCountsFileName)
        do {
            let saved = try Self.loadCheckCounts(checkCountsFile).filter { loaded[$0.key] == nil }
            checks.withLock { $0.counts = saved }
            checkCountsLoadFailure = nil
        } catch {
            checkCountsLoadFailure = error
        }
    }

    /// The outcome of a half message, nil while it is pending.
    public func outcome(halfOffset: Int64) -> TransactionOutcome? {
        outcomes.withLock { $0[halfOffset] }
    }

    /// Whether a committed copy of `half` (a commit record whose prepared transaction offset is the
    /// half's commit-log offset) is already in its real queue. Only half messages stored before this
    /// table was built are looked for (closes the crash window between storing the committed message
    /// and writing its op record); the scan starts at the half's store time and reads at most 4096 records.
    func committedCopyExists(_ half: StoredMessage) -> Bool {
        guard half.commitLogOffset.rawValue < openedAt,
              let topic = half.message.properties[PropertyKey.realTopic],
              let queueId = half.message.properties[PropertyKey.realQueueId].flatMap(Int32.init) else { return false }
        var offset = store.offset(forTimestamp: half.storeTimestamp, topic: topic, queueId: queueId)
        var scanned = 0
        while scanned < 4096 {
            let result = store.getMessages(topic: topic, queueId: queueId, offset: offset, maximumCount: 64)
            for slice in result.records {
                scanned += 1
                guard let message = try? slice.decode() else { continue }
                if message.sysFlag.transaction == .commit && message.preparedTransactionOffset == half.commitLogOffset.rawValue {
                    return true
                }
            }
            if result.records.isEmpty || result.nextBeginOffset.rawValue <= offset.rawValue { break }
            offset = result.nextBeginOffset
        }
        return false
    }

    /// Number of resolved half messages.
    public var resolvedCount: Int { outcomes.withLock { $0.count } }

    /// Claims `outcome` for a half message: returns nil when it is now the outcome, or the outcome
    /// that already won.
    func claim(halfOffset: Int64, _ outcome: TransactionOutcome) -> TransactionOutcome? {
        outcomes.withLock { table in
            if let existing = table[halfOffset] { return existing }
            table[halfOffset] = outcome
            return nil
        }
    }

    /// Gives a claim back (the commit's store write failed).
    func release(halfOffset: Int64) {
        _ = outcomes.withLock { $0.removeValue(forKey: halfOffset) }
    }

    /// Counts one more check-back; returns the new count.
    func countCheck(halfOffset: Int64) -> Int {
        checks.withLock { checks in
            checks.counts[halfOffset, default: 0] += 1
            checks.version &+= 1
            return checks.counts[halfOffset]!
        }
    }

    /// Check-backs sent so far for a half message.
    public func checkCount(halfOffset: Int64) -> Int { checks.withLock { $0.counts[halfOffset] ?? 0 } }

    /// Writes the op record of a claimed outcome; false when the store refused it (the outcome then
    /// holds only in memory until restart).
    func recordOperation(halfOffset: Int64, _ outcome: TransactionOutcome) async -> Bool {
        checks.withLock { checks in
            if checks.counts.removeValue(forKey: halfOffset) != nil { checks.version &+= 1 }
        }
        var properties = MessageProperties()
        properties[PropertyKey.tags] = Self.operationTag
        properties[Self.outcomeProperty] = outcome.rawValue
        properties[PropertyKey.waitStoreMessageOK] = "false"
        let message = StoredMessage(
            message: Message(topic: SystemNames.transactionOperationTopic, properties: properties, body: ByteBuffer(string: String(halfOffset))),
            queueId: 0, bornTimestamp: System.nowMilliseconds(), bornHost: store.configuration.storeHost)
        let result = await store.put(message)
        switch result.status {
        case .ok, .flushDiskTimeout: return true
        default: return false
        }
    }
}

/// Transaction check-back (Java `TransactionalMessageCheckService`, spec §15, §21): every `interval`
/// each half message older than `timeout` (or its `CHECK_IMMUNITY_TIME_IN_SECONDS`) without an
/// outcome is sent CHECK_TRANSACTION_STATE (39) oneway on one live connection of its `PGROUP`
/// producer group; after `maximumChecks` check-backs it is discarded (an op record with outcome
/// `discard`) and logged. Check counts are saved after every round that changed them.
public final class TransactionCheckService: Service, Sendable {
    /// RocketMQ's `transactionCheckInterval`.
    public static let defaultInterval: Duration = .seconds(60)
    /// RocketMQ's `transactionTimeOut` in milliseconds.
    public static let defaultTimeout: Int64 = 6_000
    /// RocketMQ's `transactionCheckMax`.
    public static let defaultMaximumChecks = 15

    /// The store.
    public let store: MessageStore
    /// Producer connections.
    public let clients: ClientRegistry
    /// The outcome table.
    public let table: TransactionOutcomeTable
    /// Time between rounds.
    public let interval: Duration
    /// Age (ms) a half message must reach before it is checked.
    public let timeout: Int64
    /// Check-backs before a half message is discarded.
    public let maximumChecks: Int
    /// First half queue offset that may still be pending.
    private let scanFrom = Mutex<Int64>(0)
    /// Set while a round runs.
    private let inRound = Atomic<Bool>(false)
    /// Where rounds report.
    private let logger: Logger
    /// Decompresses a half message's zstd body: producers (official clients) get the plain body.
    private let compression: StoreBodyCompression?

    /// A check service over `store`'s half topic.
    public init(store: MessageStore, clients: ClientRegistry, table: TransactionOutcomeTable, interval: Duration = defaultInterval,
                timeout: Int64 = defaultTimeout, maximumChecks: Int = defaultMaximumChecks,
                compression: StoreBodyCompression? = nil, logger: Logger) {
        self.store = store
        self.compression = compression
        self.clients = clients
        self.table = table
        self.interval = interval
        self.timeout = timeout
        self.maximumChecks = maximumChecks
        self.logger = logger
    }

    /// The loop: a round every `interval` until graceful shutdown or cancellation.
    public func run() async throws {
        if let failure = table.checkCountsLoadFailure {
            logger.error("saved transaction check counts could not be read; counting starts again", metadata: ["error": "\(failure)"])
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.interval) } catch { return }
                await self.checkRound(now: System.nowMilliseconds())
            }
        }
    }

    /// What one round did.
    public struct RoundReport: Sendable, Hashable {
        /// Check-backs sent.
        public var sent = 0
        /// Half messages discarded after too many checks.
        public var discarded = 0
    }

    /// One round at time `now` (milliseconds).
    @discardableResult
    public func checkRound(now: Int64) async -> RoundReport {
        var report = RoundReport()
        guard !inRound.exchange(true, ordering: .acquiringAndReleasing) else { return report }
        defer { inRound.store(false, ordering: .releasing) }
        let topic = SystemNames.transactionHalfTopic
        let minimum = store.minimumOffset(topic: topic, queueId: 0).rawValue
        var offset = max(scanFrom.withLock { $0 }, minimum)
        var contiguous = true
        scan: while !store.isClosed {
            let result = store.getMessages(topic: topic, queueId: 0, offset: QueueOffset(offset), maximumCount: 32)
            if result.records.isEmpty {
                if result.nextBeginOffset.rawValue > offset { offset = result.nextBeginOffset.rawValue; continue }
                break
            }
            for (slice, queueOffset) in zip(result.records, result.queueOffsets) {
                let half = queueOffset.rawValue
                if table.outcome(halfOffset: half) != nil {
                    if contiguous { scanFrom.withLock { $0 = half + 1 } }
                    continue
                }
                guard let message = try? slice.decode() else {
                    logger.error("skipping a half message that does not decode", metadata: ["offset": "\(half)"])
                    continue
                }
                var wait = timeout
                if let immunity = message.message.properties["CHECK_IMMUNITY_TIME_IN_SECONDS"].flatMap(Int64.init), immunity > 0 {
                    wait = max(wait, immunity * 1000)
                }
                if message.storeTimestamp + wait > now {
                    // Half messages are in store-time order; only a longer immunity lets later ones be due.
                    if wait == timeout { break scan }
                    contiguous = false
                    continue
                }
                contiguous = false
                if table.checkCount(halfOffset: half) >= maximumChecks {
                    if table.claim(halfOffset: half, .discard) == nil {
                        _ = await table.recordOperation(halfOffset: half, .discard)
                        report.discarded += 1
                        logger.warning("discarding a half message checked too often", metadata: [
                            "halfOffset": "\(half)", "checks": "\(maximumChecks)",
                            "topic": "\(message.message.properties[PropertyKey.realTopic] ?? "")",
                            "group": "\(message.message.properties[PropertyKey.producerGroup] ?? "")",
                        ])
                    }
                    continue
                }
                if table.checkCount(halfOffset: half) == 0, table.committedCopyExists(message) {
                    if table.claim(halfOffset: half, .commit) == nil {
                        _ = await table.recordOperation(halfOffset: half, .commit)
                        logger.info("a half message committed before a restart got its op record", metadata: ["halfOffset": "\(half)"])
                    }
                    continue
                }
                _ = table.countCheck(halfOffset: half)
                if await sendCheck(message, halfOffset: half) { report.sent += 1 }
            }
            offset = result.nextBeginOffset.rawValue
        }
        do { try table.persistCheckCounts() } catch {
            logger.error("saving transaction check counts failed", metadata: ["error": "\(error)"])
        }
        return report
    }

    /// Sends CHECK_TRANSACTION_STATE for one half message to a live producer of its group.
    private func sendCheck(_ half: StoredMessage, halfOffset: Int64) async -> Bool {
        let group = half.message.properties[PropertyKey.producerGroup] ?? ""
        let channels = clients.producerChannels(group: group)
        guard !channels.isEmpty else {
            logger.debug("no producer of the group is connected for a transaction check", metadata: ["group": "\(group)"])
            return false
        }
        var plain: StoredMessage
        do { plain = try compression?.plain(half) ?? half } catch {
            // The producer decides from the transaction id, keys and properties; withholding the
            // check would leave the half message to be rolled back after maximumChecks unasked.
            logger.error("a half message's body cannot be decompressed; its check-back carries an empty body", metadata: [
                "offset": "\(halfOffset)", "error": "\(error)",
            ])
            plain = half
            plain.message.body = ByteBuffer()
            plain.sysFlag.compression = nil
            plain.bodyCRC = plain.message.body.withUnsafeReadableBytes { CRC32.bodyChecksum($0) }
        }
        let request = Self.checkRequest(plain, halfOffset: halfOffset)
        for channel in channels.shuffled() {
            do {
                try await channel.invokeOneway(request)
                return true
            } catch {
                logger.debug("sending a transaction check failed", metadata: ["remote": "\(channel.remoteAddress)", "error": "\(error)"])
            }
        }
        return false
    }

    /// The CHECK_TRANSACTION_STATE request for a half message: ext tranStateTableOffset,
    /// commitLogOffset, msgId and transactionId (UNIQ_KEY), offsetMsgId; body = the half record
    /// re-encoded with topic and queue set to REAL_TOPIC / REAL_QID (spec §15).
    static func checkRequest(_ half: StoredMessage, halfOffset: Int64) -> RemotingCommand {
        let offsetId = half.offsetMessageId
        let unique = half.message.uniqueKey ?? offsetId
        var shown = half
        if let topic = half.message.properties[PropertyKey.realTopic] { shown.message.topic = topic }
        if let queue = half.message.properties[PropertyKey.realQueueId].flatMap(Int32.init) { shown.queueId = queue }
        let body = (try? StoredMessageCodec.encode(shown)).map { ByteBuffer(bytes: $0) }
        var request = RemotingCommand.request(code: .checkTransactionState, extFields: [
            "tranStateTableOffset": String(halfOffset),
            "commitLogOffset": String(half.commitLogOffset.rawValue),
            "msgId": unique,
            "transactionId": unique,
            "offsetMsgId": offsetId,
        ], body: body)
        request.flag |= RemotingCommand.onewayFlag
        return request
    }
}
