import PetrelCore
import PetrelRemoting

/// How a broker stored a sent message (Java `SendStatus`). Every status means the message is in the
/// broker's commit log; the non-OK ones say a durability step did not finish in time.
public enum SendStatus: String, Sendable, Hashable, CaseIterable {
    /// Stored (and flushed/replicated as the broker's modes require).
    case sendOK = "SEND_OK"
    /// Stored, but the synchronous flush did not finish within the broker's timeout (code 10).
    case flushDiskTimeout = "FLUSH_DISK_TIMEOUT"
    /// Stored, but the synchronous replication did not finish in time (code 12).
    case flushSlaveTimeout = "FLUSH_SLAVE_TIMEOUT"
    /// Stored, but no slave is available for synchronous replication (code 11).
    case slaveNotAvailable = "SLAVE_NOT_AVAILABLE"

    /// The status a send response code stands for; nil for failure codes.
    init?(responseCode: ResponseCode) {
        switch responseCode {
        case .success: self = .sendOK
        case .flushDiskTimeout: self = .flushDiskTimeout
        case .flushSlaveTimeout: self = .flushSlaveTimeout
        case .slaveNotAvailable: self = .slaveNotAvailable
        default: return nil
        }
    }
}

/// The outcome of a successful send (Java `SendResult`).
public struct SendResult: Sendable, Hashable {
    /// How the broker stored it.
    public var status: SendStatus
    /// The client's unique id (`UNIQ_KEY`), what consumers see as the message id; for a batch the
    /// ids of its messages joined by commas.
    public var messageId: String
    /// The broker's offset message id (store host + commit-log offset); comma-joined for a batch.
    public var offsetMessageId: String
    /// The queue it went to.
    public var queue: MessageQueue
    /// Its offset in that queue (the first message's, for a batch).
    public var queueOffset: Int64
    /// The transaction id the broker returned, or the unique id for transactional sends.
    public var transactionId: String?
    /// The broker's region (`MSG_REGION`), when it said.
    public var regionId: String?

    /// A result.
    public init(
        status: SendStatus, messageId: String, offsetMessageId: String, queue: MessageQueue, queueOffset: Int64,
        transactionId: String? = nil, regionId: String? = nil
    ) {
        self.status = status
        self.messageId = messageId
        self.offsetMessageId = offsetMessageId
        self.queue = queue
        self.queueOffset = queueOffset
        self.transactionId = transactionId
        self.regionId = regionId
    }
}
