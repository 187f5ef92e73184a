/// A response code (spec §5). A struct rather than an enum so that codes Petrel does not know still
/// decode and round-trip; constant names are RocketMQ's `ResponseCode` names in lowerCamelCase.
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as it travels in the header's `code` field.
    public var rawValue: Int32

    /// Wraps any code, known or not.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// RocketMQ's upper-case name of a known code, nil for others.
    public var name: String? { Self.names[rawValue] }

    /// `17 TOPIC_NOT_EXIST`, or just the number for an unknown code.
    public var description: String { name.map { "\(rawValue) \($0)" } ?? "\(rawValue)" }

    /// 0 `SUCCESS`: The request succeeded.
    public static let success = Self(rawValue: 0)
    /// 1 `SYSTEM_ERROR`: Generic failure; the remark explains.
    public static let systemError = Self(rawValue: 1)
    /// 2 `SYSTEM_BUSY`: Flow control; clients retry.
    public static let systemBusy = Self(rawValue: 2)
    /// 3 `REQUEST_CODE_NOT_SUPPORTED`: The request code is unknown to the receiver.
    public static let requestCodeNotSupported = Self(rawValue: 3)
    /// 4 `TRANSACTION_FAILED`: A transaction operation failed.
    public static let transactionFailed = Self(rawValue: 4)
    /// 10 `FLUSH_DISK_TIMEOUT`: Stored, but the synchronous flush timed out.
    public static let flushDiskTimeout = Self(rawValue: 10)
    /// 11 `SLAVE_NOT_AVAILABLE`: Stored, but no slave is available.
    public static let slaveNotAvailable = Self(rawValue: 11)
    /// 12 `FLUSH_SLAVE_TIMEOUT`: Stored, but replication to the slave timed out.
    public static let flushSlaveTimeout = Self(rawValue: 12)
    /// 13 `MESSAGE_ILLEGAL`: The body or properties are too large or malformed.
    public static let messageIllegal = Self(rawValue: 13)
    /// 14 `SERVICE_NOT_AVAILABLE`: The store is down or the broker is a slave.
    public static let serviceNotAvailable = Self(rawValue: 14)
    /// 15 `VERSION_NOT_SUPPORTED`: The client version is not supported.
    public static let versionNotSupported = Self(rawValue: 15)
    /// 16 `NO_PERMISSION`: Permission bits or ACL forbid the request.
    public static let noPermission = Self(rawValue: 16)
    /// 17 `TOPIC_NOT_EXIST`: The topic is unknown.
    public static let topicNotExist = Self(rawValue: 17)
    /// 18 `TOPIC_EXIST_ALREADY`: The topic already exists.
    public static let topicExistAlready = Self(rawValue: 18)
    /// 19 `PULL_NOT_FOUND`: No new message, even after long polling.
    public static let pullNotFound = Self(rawValue: 19)
    /// 20 `PULL_RETRY_IMMEDIATELY`: Nothing matched the filter; pull again.
    public static let pullRetryImmediately = Self(rawValue: 20)
    /// 21 `PULL_OFFSET_MOVED`: The pull offset is illegal; use nextBeginOffset.
    public static let pullOffsetMoved = Self(rawValue: 21)
    /// 22 `QUERY_NOT_FOUND`: No committed offset, or the query found nothing.
    public static let queryNotFound = Self(rawValue: 22)
    /// 23 `SUBSCRIPTION_PARSE_FAILED`: The subscription expression does not parse.
    public static let subscriptionParseFailed = Self(rawValue: 23)
    /// 24 `SUBSCRIPTION_NOT_EXIST`: The group has no subscription for the topic.
    public static let subscriptionNotExist = Self(rawValue: 24)
    /// 25 `SUBSCRIPTION_NOT_LATEST`: The subscription version is older than the broker's.
    public static let subscriptionNotLatest = Self(rawValue: 25)
    /// 26 `SUBSCRIPTION_GROUP_NOT_EXIST`: The subscription group is unknown.
    public static let subscriptionGroupNotExist = Self(rawValue: 26)
    /// 27 `FILTER_DATA_NOT_EXIST`: SQL92 filter data is missing.
    public static let filterDataNotExist = Self(rawValue: 27)
    /// 28 `FILTER_DATA_NOT_LATEST`: SQL92 filter data is outdated.
    public static let filterDataNotLatest = Self(rawValue: 28)
    /// 200 `TRANSACTION_SHOULD_COMMIT`: The half message should be committed.
    public static let transactionShouldCommit = Self(rawValue: 200)
    /// 201 `TRANSACTION_SHOULD_ROLLBACK`: The half message should be rolled back.
    public static let transactionShouldRollback = Self(rawValue: 201)
    /// 202 `TRANSACTION_STATE_UNKNOW`: The transaction state is unknown (RocketMQ's spelling).
    public static let transactionStateUnknow = Self(rawValue: 202)
    /// 203 `TRANSACTION_STATE_GROUP_WRONG`: The transaction belongs to another group.
    public static let transactionStateGroupWrong = Self(rawValue: 203)
    /// 204 `NO_BUYER_ID`: No buyer id.
    public static let noBuyerId = Self(rawValue: 204)
    /// 205 `NOT_IN_CURRENT_UNIT`: Not in the current unit.
    public static let notInCurrentUnit = Self(rawValue: 205)
    /// 206 `CONSUMER_NOT_ONLINE`: The consumer is not connected.
    public static let consumerNotOnline = Self(rawValue: 206)
    /// 207 `CONSUME_MSG_TIMEOUT`: Direct consumption timed out.
    public static let consumeMsgTimeout = Self(rawValue: 207)
    /// 208 `NO_MESSAGE`: No message.
    public static let noMessage = Self(rawValue: 208)
    /// 209 `UPDATE_AND_CREATE_ACL_CONFIG_FAILED`: Creating or updating the ACL account failed.
    public static let updateAndCreateAclConfigFailed = Self(rawValue: 209)
    /// 210 `DELETE_ACL_CONFIG_FAILED`: Deleting the ACL account failed.
    public static let deleteAclConfigFailed = Self(rawValue: 210)
    /// 211 `UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED`: Updating the global whitelist failed.
    public static let updateGlobalWhiteAddrsConfigFailed = Self(rawValue: 211)
    /// 215 `FLOW_CONTROL`: The request was rejected by flow control.
    public static let flowControl = Self(rawValue: 215)

    /// RocketMQ's names of the codes above, for logs.
    private static let names: [Int32: String] = [
        success.rawValue: "SUCCESS",
        systemError.rawValue: "SYSTEM_ERROR",
        systemBusy.rawValue: "SYSTEM_BUSY",
        requestCodeNotSupported.rawValue: "REQUEST_CODE_NOT_SUPPORTED",
        transactionFailed.rawValue: "TRANSACTION_FAILED",
        flushDiskTimeout.rawValue: "FLUSH_DISK_TIMEOUT",
        slaveNotAvailable.rawValue: "SLAVE_NOT_AVAILABLE",
        flushSlaveTimeout.rawValue: "FLUSH_SLAVE_TIMEOUT",
        messageIllegal.rawValue: "MESSAGE_ILLEGAL",
        serviceNotAvailable.rawValue: "SERVICE_NOT_AVAILABLE",
        versionNotSupported.rawValue: "VERSION_NOT_SUPPORTED",
        noPermission.rawValue: "NO_PERMISSION",
        topicNotExist.rawValue: "TOPIC_NOT_EXIST",
        topicExistAlready.rawValue: "TOPIC_EXIST_ALREADY",
        pullNotFound.rawValue: "PULL_NOT_FOUND",
        pullRetryImmediately.rawValue: "PULL_RETRY_IMMEDIATELY",
        pullOffsetMoved.rawValue: "PULL_OFFSET_MOVED",
        queryNotFound.rawValue: "QUERY_NOT_FOUND",
        subscriptionParseFailed.rawValue: "SUBSCRIPTION_PARSE_FAILED",
        subscriptionNotExist.rawValue: "SUBSCRIPTION_NOT_EXIST",
        subscriptionNotLatest.rawValue: "SUBSCRIPTION_NOT_LATEST",
        subscriptionGroupNotExist.rawValue: "SUBSCRIPTION_GROUP_NOT_EXIST",
        filterDataNotExist.rawValue: "FILTER_DATA_NOT_EXIST",
        filterDataNotLatest.rawValue: "FILTER_DATA_NOT_LATEST",
        transactionShouldCommit.rawValue: "TRANSACTION_SHOULD_COMMIT",
        transactionShouldRollback.rawValue: "TRANSACTION_SHOULD_ROLLBACK",
        transactionStateUnknow.rawValue: "TRANSACTION_STATE_UNKNOW",
        transactionStateGroupWrong.rawValue: "TRANSACTION_STATE_GROUP_WRONG",
        noBuyerId.rawValue: "NO_BUYER_ID",
        notInCurrentUnit.rawValue: "NOT_IN_CURRENT_UNIT",
        consumerNotOnline.rawValue: "CONSUMER_NOT_ONLINE",
        consumeMsgTimeout.rawValue: "CONSUME_MSG_TIMEOUT",
        noMessage.rawValue: "NO_MESSAGE",
        updateAndCreateAclConfigFailed.rawValue: "UPDATE_AND_CREATE_ACL_CONFIG_FAILED",
        deleteAclConfigFailed.rawValue: "DELETE_ACL_CONFIG_FAILED",
        updateGlobalWhiteAddrsConfigFailed.rawValue: "UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED",
        flowControl.rawValue: "FLOW_CONTROL",
    ]
}
