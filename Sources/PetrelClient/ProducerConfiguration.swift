/// A producer's settings. Defaults are the Java client's (`DefaultMQProducer`), names spelled out
/// (Java's name in each comment).
public struct ProducerConfiguration: Sendable, Hashable {
    /// The template topic brokers auto-create new topics from (Java `createTopicKey`, `TBW102`).
    public static let defaultTemplateTopic = "TBW102"

    /// The producer group (Java `producerGroup`): brokers ask a member of it to check transactions.
    public var group: String
    /// Name servers, instance name and intervals of the client instance the producer uses.
    public var client: ClientConfiguration
    /// Time budget of one send, retries included (Java `sendMsgTimeout`, 3 s).
    public var sendMessageTimeout: Duration
    /// Extra attempts of a synchronous send after a failure, each on another queue and, when
    /// possible, another broker (Java `retryTimesWhenSendFailed`, 2).
    public var retryTimesWhenSendFailed: Int
    /// Extra attempts of an asynchronous send (Java `retryTimesWhenSendAsyncFailed`, 2).
    public var retryTimesWhenSendAsyncFailed: Int
    /// Whether a send stored with a status other than SEND_OK (flush or slave timeout) is retried
    /// on another broker (Java `retryAnotherBrokerWhenNotStoreOK`, false).
    public var retryAnotherBrokerWhenNotStoredOK: Bool
    /// Bodies longer than this many bytes are sent zlib-compressed (Java `compressMsgBodyOverHowmuch`, 4096).
    public var compressBodyThreshold: Int
    /// zlib level of compressed bodies, 1 to 9 (Java `compressLevel`, 5): higher levels search harder
    /// for matches (longer hash chains, lazy matching from 4), so they are slower and smaller. Petrel's
    /// compressor uses fixed Huffman codes at every level (see `Deflate`).
    public var compressionLevel: Int
    /// Largest body accepted, before compression (Java `maxMessageSize`, 4 MiB).
    public var maximumMessageSize: Int
    /// Queues a broker gives a topic it auto-creates for this producer (Java `defaultTopicQueueNums`, 4).
    public var defaultTopicQueueNumbers: Int32
    /// The auto-create template topic (Java `createTopicKey`).
    public var templateTopic: String
    /// Whether brokers that failed or answered slowly are avoided for a while (Java
    /// `sendLatencyFaultEnable`; Java's default is false, Petrel's true).
    public var faultAvoidanceEnabled: Bool
    /// How long a broker that failed a send is avoided.
    public var brokerIsolationTime: Duration
    /// Natural batching of `sendAsync` (Java 5.1 `autoBatch`, off by default): while a send to a
    /// queue is in flight, further plain asynchronous sends to the topic wait and go as one
    /// SEND_BATCH_MESSAGE when it completes. No timer: an idle producer sends each message alone.
    public var autoBatch: Bool
    /// Most messages in one automatic batch.
    public var autoBatchMaximumMessages: Int
    /// Most bytes (bodies and per-message overhead, estimated) in one automatic batch; batches never
    /// exceed `maximumMessageSize` either.
    public var autoBatchMaximumBytes: Int

    /// A configuration with Java's defaults for everything not given.
    public init(
        group: String, client: ClientConfiguration, sendMessageTimeout: Duration = .seconds(3),
        retryTimesWhenSendFailed: Int = 2, retryTimesWhenSendAsyncFailed: Int = 2,
        retryAnotherBrokerWhenNotStoredOK: Bool = false, compressBodyThreshold: Int = 4096, compressionLevel: Int = 5,
        maximumMessageSize: Int = 4 * 1024 * 1024, defaultTopicQueueNumbers: Int32 = 4,
        templateTopic: String = ProducerConfiguration.defaultTemplateTopic, faultAvoidanceEnabled: Bool = true,
        brokerIsolationTime: Duration = .seconds(30), autoBatch: Bool = false, autoBatchMaximumMessages: Int = 64,
        autoBatchMaximumBytes: Int = 512 * 1024
    ) {
        self.group = group
        self.client = client
        self.sendMessageTimeout = sendMessageTimeout
        self.retryTimesWhenSendFailed = retryTimesWhenSendFailed
        self.retryTimesWhenSendAsyncFailed = retryTimesWhenSendAsyncFailed
        self.retryAnotherBrokerWhenNotStoredOK = retryAnotherBrokerWhenNotStoredOK
        self.compressBodyThreshold = compressBodyThreshold
        self.compressionLevel = compressionLevel
        self.maximumMessageSize = maximumMessageSize
        self.defaultTopicQueueNumbers = defaultTopicQueueNumbers
        self.templateTopic = templateTopic
        self.faultAvoidanceEnabled = faultAvoidanceEnabled
        self.brokerIsolationTime = brokerIsolationTime
        self.autoBatch = autoBatch
        self.autoBatchMaximumMessages = autoBatchMaximumMessages
        self.autoBatchMaximumBytes = autoBatchMaximumBytes
    }

    /// Checks every value; the error names the setting.
    public func validate() throws(ClientError) {
        try client.validate()
        try MessageValidation.checkGroup(group)
        guard sendMessageTimeout > .zero else { throw ClientError(.invalidConfiguration, "sendMessageTimeout must be positive") }
        guard retryTimesWhenSendFailed >= 0, retryTimesWhenSendAsyncFailed >= 0 else {
            throw ClientError(.invalidConfiguration, "retryTimesWhenSendFailed and retryTimesWhenSendAsyncFailed must not be negative")
        }
        guard compressBodyThreshold >= 0 else { throw ClientError(.invalidConfiguration, "compressBodyThreshold must not be negative") }
        guard (1...9).contains(compressionLevel) else {
            throw ClientError(.invalidConfiguration, "compressionLevel must be 1 to 9, got \(compressionLevel)")
        }
        guard maximumMessageSize > 0 else { throw ClientError(.invalidConfiguration, "maximumMessageSize must be positive") }
        guard defaultTopicQueueNumbers > 0 else { throw ClientError(.invalidConfiguration, "defaultTopicQueueNumbers must be positive") }
        guard autoBatchMaximumMessages > 0 else { throw ClientError(.invalidConfiguration, "autoBatchMaximumMessages must be positive") }
        guard autoBatchMaximumBytes > 0 else { throw ClientError(.invalidConfiguration, "autoBatchMaximumBytes must be positive") }
    }
}
