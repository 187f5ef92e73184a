import PetrelCore
import PetrelStore

/// Role of a broker in a master/slave pair (`brokerRole`).
public enum BrokerRole: String, Sendable, CaseIterable {
    /// Master; replicates to slaves asynchronously.
    case asyncMaster = "ASYNC_MASTER"
    /// Master; a send completes when a slave has it too.
    case syncMaster = "SYNC_MASTER"
    /// Slave.
    case slave = "SLAVE"
}

/// Everything a broker is told at start, with RocketMQ's defaults. The executable fills it from
/// `broker.conf` and the command line through `BrokerConfigurationKeys`; the broker reads nothing itself.
public struct BrokerConfiguration: Sendable {
    /// `brokerClusterName`.
    public var brokerClusterName = "DefaultCluster"
    /// `brokerName`.
    public var brokerName = "broker-a"
    /// `brokerId`: 0 is the master.
    public var brokerId: Int64 = 0
    /// `brokerIP1`: the address advertised to name servers and written as STOREHOST.
    public var brokerIP1 = "127.0.0.1"
    /// `listenPort`.
    public var listenPort = 10911
    /// `namesrvAddr`, split on `;`. Empty: the broker runs an embedded name server.
    public var nameServerAddresses: [String] = []
    /// `namesrvListenPort`: where the embedded name server listens.
    public var nameServerListenPort = 9876
    /// `brokerRole`.
    public var brokerRole: BrokerRole = .asyncMaster
    /// `autoCreateTopicEnable`.
    public var autoCreateTopicEnable = true
    /// `autoCreateSubscriptionGroup`.
    public var autoCreateSubscriptionGroup = true
    /// `defaultTopicQueueNums`.
    public var defaultTopicQueueNumbers = 8
    /// `messageDelayLevel`, e.g. `1s 5s 10s 30s 1m …`, parsed into durations.
    public var messageDelayLevels: [Duration] = BrokerConfiguration.defaultDelayLevels
    /// `registerNameServerPeriod` in milliseconds (clamped to 10–60 s as RocketMQ does).
    public var registerNameServerPeriodMilliseconds = 30_000
    /// `longPollingEnable`.
    public var longPollingEnable = true
    /// `transactionCheckInterval`: milliseconds between transaction check-back rounds.
    public var transactionCheckInterval: Int64 = 60_000
    /// `transactionTimeOut`: milliseconds a half message waits before its first check-back.
    public var transactionTimeOut = TransactionCheckService.defaultTimeout
    /// `transactionCheckMax`: check-backs before an unanswered half message is discarded.
    public var transactionCheckMax = TransactionCheckService.defaultMaximumChecks
    /// `timerWheelEnable`: whether RocketMQ 5 timer properties (`TIMER_DELIVER_MS`, `TIMER_DELAY_SEC`,
    /// `TIMER_DELAY_MS`, `__STARTDELIVERTIME`) park a message until its deliver time. When off they
    /// are ignored (stored at once); timers parked earlier are still delivered.
    public var timerWheelEnable = true
    /// `timerMaxDelaySec`: the longest delay a timer message may ask for (RocketMQ's default, 3 days).
    public var timerMaxDelaySeconds: Int64 = 259_200
    /// Entries per timer-log file (32 bytes each; the default makes 8 MiB files).
    public var timerLogEntriesPerFile = 262_144
    /// The store's settings (`storePathRootDir`, `storePathCommitLog`, `mappedFileSizeCommitLog`,
    /// `flushDiskType`, `deleteWhen`, `fileReservedTime`, `maxMessageSize`, disk ratios …).
    public var store: StoreConfiguration
    /// Store compression: the compressor plugin and the topic defaults (`compressorPlugin`,
    /// `compressionType`, `compressionLevel` …).
    public var compression = CompressionConfiguration()

    /// Defaults, with the store under `~/store` as RocketMQ has it.
    public init(storeRoot: String) {
        store = StoreConfiguration(rootDirectory: storeRoot)
    }

    /// RocketMQ's 18 default delay levels: 1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h.
    public static let defaultDelayLevels: [Duration] = [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600,
                                                        1200, 1800, 3600, 7200].map { .seconds($0) }

    /// The advertised `ip:port`.
    public var brokerAddress: String { "\(brokerIP1):\(listenPort)" }
}
