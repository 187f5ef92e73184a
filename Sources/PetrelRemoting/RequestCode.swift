/// A request code (spec §4). A struct rather than an enum so that codes Petrel does not know (5.x
/// additions, vendor extensions) still decode, round-trip and can be answered REQUEST_CODE_NOT_SUPPORTED.
///
/// Constant names are RocketMQ's `RequestCode` names in lowerCamelCase, kept verbatim (including
/// RocketMQ's own run-together words such as `Routeinfo`) so they can be looked up in its sources.
public struct RequestCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as it travels in the header's `code` field.
    public var rawValue: Int32

    /// Wraps any code, known or not.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// RocketMQ's upper-case name of a known code, nil for others.
    public var name: String? { Self.names[rawValue] }

    /// `105 GET_ROUTEINFO_BY_TOPIC`, or just the number for an unknown code.
    public var description: String { name.map { "\(rawValue) \($0)" } ?? "\(rawValue)" }

    // MARK: Name server (spec §4.1)

    /// 100 `PUT_KV_CONFIG`: Stores a KV config entry (namespace, key, value).
    public static let putKvConfig = Self(rawValue: 100)
    /// 101 `GET_KV_CONFIG`: Reads a KV config entry; QUERY_NOT_FOUND when absent.
    public static let getKvConfig = Self(rawValue: 101)
    /// 102 `DELETE_KV_CONFIG`: Deletes a KV config entry.
    public static let deleteKvConfig = Self(rawValue: 102)
    /// 103 `REGISTER_BROKER`: A broker registers its topics with the name server.
    public static let registerBroker = Self(rawValue: 103)
    /// 104 `UNREGISTER_BROKER`: A broker leaves the name server.
    public static let unregisterBroker = Self(rawValue: 104)
    /// 105 `GET_ROUTEINFO_BY_TOPIC`: A topic's route (brokers and queues); TOPIC_NOT_EXIST when unknown.
    public static let getRouteinfoByTopic = Self(rawValue: 105)
    /// 106 `GET_BROKER_CLUSTER_INFO`: Cluster membership of every broker.
    public static let getBrokerClusterInfo = Self(rawValue: 106)
    /// 205 `WIPE_WRITE_PERM_OF_BROKER`: Removes write permission from a broker's topics.
    public static let wipeWritePermOfBroker = Self(rawValue: 205)
    /// 327 `ADD_WRITE_PERM_OF_BROKER`: Restores write permission to a broker's topics.
    public static let addWritePermOfBroker = Self(rawValue: 327)
    /// 206 `GET_ALL_TOPIC_LIST_FROM_NAMESERVER`: Every topic the name server knows.
    public static let getAllTopicListFromNameserver = Self(rawValue: 206)
    /// 216 `DELETE_TOPIC_IN_NAMESRV`: Removes a topic's route.
    public static let deleteTopicInNamesrv = Self(rawValue: 216)
    /// 219 `GET_KVLIST_BY_NAMESPACE`: Every KV config entry of a namespace.
    public static let getKvlistByNamespace = Self(rawValue: 219)
    /// 224 `GET_TOPICS_BY_CLUSTER`: The topics of one cluster.
    public static let getTopicsByCluster = Self(rawValue: 224)
    /// 304 `GET_SYSTEM_TOPIC_LIST_FROM_NS`: The system topics the name server knows.
    public static let getSystemTopicListFromNs = Self(rawValue: 304)
    /// 311 `GET_UNIT_TOPIC_LIST`: Unit topics.
    public static let getUnitTopicList = Self(rawValue: 311)
    /// 312 `GET_HAS_UNIT_SUB_TOPIC_LIST`: Topics with unit subscriptions.
    public static let getHasUnitSubTopicList = Self(rawValue: 312)
    /// 313 `GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST`: Non-unit topics with unit subscriptions.
    public static let getHasUnitSubUnunitTopicList = Self(rawValue: 313)
    /// 318 `UPDATE_NAMESRV_CONFIG`: Updates the name server's configuration.
    public static let updateNamesrvConfig = Self(rawValue: 318)
    /// 319 `GET_NAMESRV_CONFIG`: Reads the name server's configuration.
    public static let getNamesrvConfig = Self(rawValue: 319)
    /// 322 `QUERY_DATA_VERSION`: Asks whether a broker's registration data changed.
    public static let queryDataVersion = Self(rawValue: 322)

    // MARK: Broker, client-facing (spec §4.2)

    /// 10 `SEND_MESSAGE`: Sends one message (or, from C++, a batch).
    public static let sendMessage = Self(rawValue: 10)
    /// 310 `SEND_MESSAGE_V2`: Sends one message with the short a..n field names.
    public static let sendMessageV2 = Self(rawValue: 310)
    /// 320 `SEND_BATCH_MESSAGE`: Sends a batch with the short field names.
    public static let sendBatchMessage = Self(rawValue: 320)
    /// 324 `SEND_REPLY_MESSAGE`: Sends a request-reply reply (long field names).
    public static let sendReplyMessage = Self(rawValue: 324)
    /// 325 `SEND_REPLY_MESSAGE_V2`: Sends a request-reply reply (short field names).
    public static let sendReplyMessageV2 = Self(rawValue: 325)
    /// 11 `PULL_MESSAGE`: Pulls messages from one queue, possibly long-polling.
    public static let pullMessage = Self(rawValue: 11)
    /// 12 `QUERY_MESSAGE`: Queries messages by key.
    public static let queryMessage = Self(rawValue: 12)
    /// 14 `QUERY_CONSUMER_OFFSET`: Reads a group's committed offset of one queue.
    public static let queryConsumerOffset = Self(rawValue: 14)
    /// 15 `UPDATE_CONSUMER_OFFSET`: Commits a group's offset of one queue.
    public static let updateConsumerOffset = Self(rawValue: 15)
    /// 29 `SEARCH_OFFSET_BY_TIMESTAMP`: The queue offset of the first message stored at or after a time.
    public static let searchOffsetByTimestamp = Self(rawValue: 29)
    /// 30 `GET_MAX_OFFSET`: The next offset to be written in a queue.
    public static let getMaxOffset = Self(rawValue: 30)
    /// 31 `GET_MIN_OFFSET`: The oldest offset still kept in a queue.
    public static let getMinOffset = Self(rawValue: 31)
    /// 32 `GET_EARLIEST_MSG_STORETIME`: The store time of a queue's oldest message.
    public static let getEarliestMsgStoretime = Self(rawValue: 32)
    /// 33 `VIEW_MESSAGE_BY_ID`: One stored message by commit-log offset.
    public static let viewMessageById = Self(rawValue: 33)
    /// 34 `HEART_BEAT`: A client's heartbeat with its producer and consumer groups.
    public static let heartBeat = Self(rawValue: 34)
    /// 35 `UNREGISTER_CLIENT`: A client leaves its groups.
    public static let unregisterClient = Self(rawValue: 35)
    /// 36 `CONSUMER_SEND_MSG_BACK`: A consumer hands a failed message back for retry.
    public static let consumerSendMsgBack = Self(rawValue: 36)
    /// 37 `END_TRANSACTION`: Commits or rolls back a half message.
    public static let endTransaction = Self(rawValue: 37)
    /// 38 `GET_CONSUMER_LIST_BY_GROUP`: The client ids of a consumer group.
    public static let getConsumerListByGroup = Self(rawValue: 38)
    /// 41 `LOCK_BATCH_MQ`: Locks queues for orderly consumption.
    public static let lockBatchMq = Self(rawValue: 41)
    /// 42 `UNLOCK_BATCH_MQ`: Unlocks queues locked for orderly consumption.
    public static let unlockBatchMq = Self(rawValue: 42)
    /// 46 `CHECK_CLIENT_CONFIG`: Validates a subscription (SQL92 filters).
    public static let checkClientConfig = Self(rawValue: 46)

    // MARK: Broker to client (spec §3)

    /// 39 `CHECK_TRANSACTION_STATE`: The broker asks a producer for a half message's outcome.
    public static let checkTransactionState = Self(rawValue: 39)
    /// 40 `NOTIFY_CONSUMER_IDS_CHANGED`: The broker tells consumers their group changed, to trigger a rebalance.
    public static let notifyConsumerIdsChanged = Self(rawValue: 40)
    /// 220 `RESET_CONSUMER_CLIENT_OFFSET`: The broker tells a consumer to reset its offsets.
    public static let resetConsumerClientOffset = Self(rawValue: 220)
    /// 221 `GET_CONSUMER_STATUS_FROM_CLIENT`: The broker asks a consumer for its offsets.
    public static let getConsumerStatusFromClient = Self(rawValue: 221)
    /// 326 `PUSH_REPLY_MESSAGE_TO_CLIENT`: The broker pushes a request-reply reply to the requester (Java only).
    public static let pushReplyMessageToClient = Self(rawValue: 326)

    // MARK: Petrel's own codes (far above RocketMQ's, which stop below 2,000)

    /// 9001 `PETREL_GET_COMPRESSION_DICTIONARY`: Petrel's client asks for the store-compression
    /// dictionary with ext field `dictionaryId`; the response body is the dictionary's bytes and
    /// ext field `topic` the topic it was trained on (QUERY_NOT_FOUND when the id is unknown).
    public static let petrelGetCompressionDictionary = Self(rawValue: 9001)

    // MARK: Broker admin (spec §4.3)

    /// 17 `UPDATE_AND_CREATE_TOPIC`: Creates or updates a topic.
    public static let updateAndCreateTopic = Self(rawValue: 17)
    /// 21 `GET_ALL_TOPIC_CONFIG`: Every topic configuration of a broker.
    public static let getAllTopicConfig = Self(rawValue: 21)
    /// 22 `GET_TOPIC_CONFIG_LIST`: The topic configuration list.
    public static let getTopicConfigList = Self(rawValue: 22)
    /// 23 `GET_TOPIC_NAME_LIST`: The topic name list.
    public static let getTopicNameList = Self(rawValue: 23)
    /// 25 `UPDATE_BROKER_CONFIG`: Updates the broker's configuration.
    public static let updateBrokerConfig = Self(rawValue: 25)
    /// 26 `GET_BROKER_CONFIG`: Reads the broker's configuration.
    public static let getBrokerConfig = Self(rawValue: 26)
    /// 27 `TRIGGER_DELETE_FILES`: Deletes expired store files now.
    public static let triggerDeleteFiles = Self(rawValue: 27)
    /// 28 `GET_BROKER_RUNTIME_INFO`: The broker's runtime statistics.
    public static let getBrokerRuntimeInfo = Self(rawValue: 28)
    /// 43 `GET_ALL_CONSUMER_OFFSET`: Every committed consumer offset.
    public static let getAllConsumerOffset = Self(rawValue: 43)
    /// 45 `GET_ALL_DELAY_OFFSET`: The delay-queue progress.
    public static let getAllDelayOffset = Self(rawValue: 45)
    /// 50 `UPDATE_AND_CREATE_ACL_CONFIG`: Creates or updates an ACL account.
    public static let updateAndCreateAclConfig = Self(rawValue: 50)
    /// 51 `DELETE_ACL_CONFIG`: Deletes an ACL account.
    public static let deleteAclConfig = Self(rawValue: 51)
    /// 52 `GET_BROKER_CLUSTER_ACL_INFO`: The broker's ACL version information.
    public static let getBrokerClusterAclInfo = Self(rawValue: 52)
    /// 53 `UPDATE_GLOBAL_WHITE_ADDRS_CONFIG`: Updates the global address whitelist.
    public static let updateGlobalWhiteAddrsConfig = Self(rawValue: 53)
    /// 200 `UPDATE_AND_CREATE_SUBSCRIPTIONGROUP`: Creates or updates a subscription group.
    public static let updateAndCreateSubscriptiongroup = Self(rawValue: 200)
    /// 201 `GET_ALL_SUBSCRIPTIONGROUP_CONFIG`: Every subscription group configuration.
    public static let getAllSubscriptiongroupConfig = Self(rawValue: 201)
    /// 202 `GET_TOPIC_STATS_INFO`: Offsets of each queue of a topic.
    public static let getTopicStatsInfo = Self(rawValue: 202)
    /// 203 `GET_CONSUMER_CONNECTION_LIST`: The connections and subscriptions of a consumer group.
    public static let getConsumerConnectionList = Self(rawValue: 203)
    /// 204 `GET_PRODUCER_CONNECTION_LIST`: The connections of a producer group.
    public static let getProducerConnectionList = Self(rawValue: 204)
    /// 207 `DELETE_SUBSCRIPTIONGROUP`: Deletes a subscription group.
    public static let deleteSubscriptiongroup = Self(rawValue: 207)
    /// 208 `GET_CONSUME_STATS`: A consumer group's progress per queue.
    public static let getConsumeStats = Self(rawValue: 208)
    /// 215 `DELETE_TOPIC_IN_BROKER`: Deletes a topic from the broker.
    public static let deleteTopicInBroker = Self(rawValue: 215)
    /// 222 `INVOKE_BROKER_TO_RESET_OFFSET`: Asks the broker to reset a group's offsets (it then calls the clients).
    public static let invokeBrokerToResetOffset = Self(rawValue: 222)
    /// 223 `INVOKE_BROKER_TO_GET_CONSUMER_STATUS`: Asks the broker to collect consumer status from the clients.
    public static let invokeBrokerToGetConsumerStatus = Self(rawValue: 223)
    /// 300 `QUERY_TOPIC_CONSUME_BY_WHO`: The groups consuming a topic.
    public static let queryTopicConsumeByWho = Self(rawValue: 300)
    /// 303 `QUERY_CONSUME_TIME_SPAN`: The store-time span of a group's consumption.
    public static let queryConsumeTimeSpan = Self(rawValue: 303)
    /// 305 `GET_SYSTEM_TOPIC_LIST_FROM_BROKER`: The broker's system topics.
    public static let getSystemTopicListFromBroker = Self(rawValue: 305)
    /// 306 `CLEAN_EXPIRED_CONSUMEQUEUE`: Deletes expired consume-queue files now.
    public static let cleanExpiredConsumequeue = Self(rawValue: 306)
    /// 307 `GET_CONSUMER_RUNNING_INFO`: A consumer's running information; the broker forwards it to the client.
    public static let getConsumerRunningInfo = Self(rawValue: 307)
    /// 308 `QUERY_CORRECTION_OFFSET`: The correction offset between groups.
    public static let queryCorrectionOffset = Self(rawValue: 308)
    /// 309 `CONSUME_MESSAGE_DIRECTLY`: Has a client consume one message directly; forwarded to the client.
    public static let consumeMessageDirectly = Self(rawValue: 309)
    /// 314 `CLONE_GROUP_OFFSET`: Copies one group's offsets to another.
    public static let cloneGroupOffset = Self(rawValue: 314)
    /// 315 `VIEW_BROKER_STATS_DATA`: One broker statistic.
    public static let viewBrokerStatsData = Self(rawValue: 315)
    /// 316 `CLEAN_UNUSED_TOPIC`: Deletes topics nothing uses.
    public static let cleanUnusedTopic = Self(rawValue: 316)
    /// 317 `GET_BROKER_CONSUME_STATS`: Consumption statistics of the broker.
    public static let getBrokerConsumeStats = Self(rawValue: 317)
    /// 321 `QUERY_CONSUME_QUEUE`: Raw consume-queue entries.
    public static let queryConsumeQueue = Self(rawValue: 321)
    /// 323 `RESUME_CHECK_HALF_MESSAGE`: Re-checks a half message.
    public static let resumeCheckHalfMessage = Self(rawValue: 323)
    /// 328 `GET_ALL_PRODUCER_INFO`: Every producer connection.
    public static let getAllProducerInfo = Self(rawValue: 328)
    /// 329 `DELETE_EXPIRED_COMMITLOG`: Deletes expired commit-log files now.
    public static let deleteExpiredCommitlog = Self(rawValue: 329)

    // MARK: RocketMQ 5.x POP family (spec §4): Petrel answers REQUEST_CODE_NOT_SUPPORTED

    /// 200050 `POP_MESSAGE`: Pops messages (5.x).
    public static let popMessage = Self(rawValue: 200050)
    /// 200051 `ACK_MESSAGE`: Acknowledges a popped message (5.x).
    public static let ackMessage = Self(rawValue: 200051)
    /// 200053 `CHANGE_MESSAGE_INVISIBLETIME`: Extends a popped message's invisibility (5.x).
    public static let changeMessageInvisibletime = Self(rawValue: 200053)
    /// 200054 `NOTIFICATION`: Waits for messages to pop (5.x).
    public static let notification = Self(rawValue: 200054)

    /// RocketMQ's names of the codes above, for logs.
    private static let names: [Int32: String] = [
        putKvConfig.rawValue: "PUT_KV_CONFIG",
        getKvConfig.rawValue: "GET_KV_CONFIG",
        deleteKvConfig.rawValue: "DELETE_KV_CONFIG",
        registerBroker.rawValue: "REGISTER_BROKER",
        unregisterBroker.rawValue: "UNREGISTER_BROKER",
        getRouteinfoByTopic.rawValue: "GET_ROUTEINFO_BY_TOPIC",
        getBrokerClusterInfo.rawValue: "GET_BROKER_CLUSTER_INFO",
        wipeWritePermOfBroker.rawValue: "WIPE_WRITE_PERM_OF_BROKER",
        addWritePermOfBroker.rawValue: "ADD_WRITE_PERM_OF_BROKER",
        getAllTopicListFromNameserver.rawValue: "GET_ALL_TOPIC_LIST_FROM_NAMESERVER",
        deleteTopicInNamesrv.rawValue: "DELETE_TOPIC_IN_NAMESRV",
        getKvlistByNamespace.rawValue: "GET_KVLIST_BY_NAMESPACE",
        getTopicsByCluster.rawValue: "GET_TOPICS_BY_CLUSTER",
        getSystemTopicListFromNs.rawValue: "GET_SYSTEM_TOPIC_LIST_FROM_NS",
        getUnitTopicList.rawValue: "GET_UNIT_TOPIC_LIST",
        getHasUnitSubTopicList.rawValue: "GET_HAS_UNIT_SUB_TOPIC_LIST",
        getHasUnitSubUnunitTopicList.rawValue: "GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST",
        updateNamesrvConfig.rawValue: "UPDATE_NAMESRV_CONFIG",
        getNamesrvConfig.rawValue: "GET_NAMESRV_CONFIG",
        queryDataVersion.rawValue: "QUERY_DATA_VERSION",
        sendMessage.rawValue: "SEND_MESSAGE",
        sendMessageV2.rawValue: "SEND_MESSAGE_V2",
        sendBatchMessage.rawValue: "SEND_BATCH_MESSAGE",
        sendReplyMessage.rawValue: "SEND_REPLY_MESSAGE",
        sendReplyMessageV2.rawValue: "SEND_REPLY_MESSAGE_V2",
        pullMessage.rawValue: "PULL_MESSAGE",
        queryMessage.rawValue: "QUERY_MESSAGE",
        queryConsumerOffset.rawValue: "QUERY_CONSUMER_OFFSET",
        updateConsumerOffset.rawValue: "UPDATE_CONSUMER_OFFSET",
        searchOffsetByTimestamp.rawValue: "SEARCH_OFFSET_BY_TIMESTAMP",
        getMaxOffset.rawValue: "GET_MAX_OFFSET",
        getMinOffset.rawValue: "GET_MIN_OFFSET",
        getEarliestMsgStoretime.rawValue: "GET_EARLIEST_MSG_STORETIME",
        viewMessageById.rawValue: "VIEW_MESSAGE_BY_ID",
        heartBeat.rawValue: "HEART_BEAT",
        unregisterClient.rawValue: "UNREGISTER_CLIENT",
        consumerSendMsgBack.rawValue: "CONSUMER_SEND_MSG_BACK",
        endTransaction.rawValue: "END_TRANSACTION",
        getConsumerListByGroup.rawValue: "GET_CONSUMER_LIST_BY_GROUP",
        lockBatchMq.rawValue: "LOCK_BATCH_MQ",
        unlockBatchMq.rawValue: "UNLOCK_BATCH_MQ",
        checkClientConfig.rawValue: "CHECK_CLIENT_CONFIG",
        checkTransactionState.rawValue: "CHECK_TRANSACTION_STATE",
        notifyConsumerIdsChanged.rawValue: "NOTIFY_CONSUMER_IDS_CHANGED",
        resetConsumerClientOffset.rawValue: "RESET_CONSUMER_CLIENT_OFFSET",
        getConsumerStatusFromClient.rawValue: "GET_CONSUMER_STATUS_FROM_CLIENT",
        pushReplyMessageToClient.rawValue: "PUSH_REPLY_MESSAGE_TO_CLIENT",
        updateAndCreateTopic.rawValue: "UPDATE_AND_CREATE_TOPIC",
        getAllTopicConfig.rawValue: "GET_ALL_TOPIC_CONFIG",
        getTopicConfigList.rawValue: "GET_TOPIC_CONFIG_LIST",
        getTopicNameList.rawValue: "GET_TOPIC_NAME_LIST",
        updateBrokerConfig.rawValue: "UPDATE_BROKER_CONFIG",
        getBrokerConfig.rawValue: "GET_BROKER_CONFIG",
        triggerDeleteFiles.rawValue: "TRIGGER_DELETE_FILES",
        getBrokerRuntimeInfo.rawValue: "GET_BROKER_RUNTIME_INFO",
        getAllConsumerOffset.rawValue: "GET_ALL_CONSUMER_OFFSET",
        getAllDelayOffset.rawValue: "GET_ALL_DELAY_OFFSET",
        updateAndCreateAclConfig.rawValue: "UPDATE_AND_CREATE_ACL_CONFIG",
        deleteAclConfig.rawValue: "DELETE_ACL_CONFIG",
        getBrokerClusterAclInfo.rawValue: "GET_BROKER_CLUSTER_ACL_INFO",
        updateGlobalWhiteAddrsConfig.rawValue: "UPDATE_GLOBAL_WHITE_ADDRS_CONFIG",
        updateAndCreateSubscriptiongroup.rawValue: "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP",
        getAllSubscriptiongroupConfig.rawValue: "GET_ALL_SUBSCRIPTIONGROUP_CONFIG",
        getTopicStatsInfo.rawValue: "GET_TOPIC_STATS_INFO",
        getConsumerConnectionList.rawValue: "GET_CONSUMER_CONNECTION_LIST",
        getProducerConnectionList.rawValue: "GET_PRODUCER_CONNECTION_LIST",
        deleteSubscriptiongroup.rawValue: "DELETE_SUBSCRIPTIONGROUP",
        getConsumeStats.rawValue: "GET_CONSUME_STATS",
        deleteTopicInBroker.rawValue: "DELETE_TOPIC_IN_BROKER",
        invokeBrokerToResetOffset.rawValue: "INVOKE_BROKER_TO_RESET_OFFSET",
        invokeBrokerToGetConsumerStatus.rawValue: "INVOKE_BROKER_TO_GET_CONSUMER_STATUS",
        queryTopicConsumeByWho.rawValue: "QUERY_TOPIC_CONSUME_BY_WHO",
        queryConsumeTimeSpan.rawValue: "QUERY_CONSUME_TIME_SPAN",
        getSystemTopicListFromBroker.rawValue: "GET_SYSTEM_TOPIC_LIST_FROM_BROKER",
        cleanExpiredConsumequeue.rawValue: "CLEAN_EXPIRED_CONSUMEQUEUE",
        getConsumerRunningInfo.rawValue: "GET_CONSUMER_RUNNING_INFO",
        queryCorrectionOffset.rawValue: "QUERY_CORRECTION_OFFSET",
        consumeMessageDirectly.rawValue: "CONSUME_MESSAGE_DIRECTLY",
        cloneGroupOffset.rawValue: "CLONE_GROUP_OFFSET",
        viewBrokerStatsData.rawValue: "VIEW_BROKER_STATS_DATA",
        cleanUnusedTopic.rawValue: "CLEAN_UNUSED_TOPIC",
        getBrokerConsumeStats.rawValue: "GET_BROKER_CONSUME_STATS",
        queryConsumeQueue.rawValue: "QUERY_CONSUME_QUEUE",
        resumeCheckHalfMessage.rawValue: "RESUME_CHECK_HALF_MESSAGE",
        getAllProducerInfo.rawValue: "GET_ALL_PRODUCER_INFO",
        deleteExpiredCommitlog.rawValue: "DELETE_EXPIRED_COMMITLOG",
        popMessage.rawValue: "POP_MESSAGE",
        ackMessage.rawValue: "ACK_MESSAGE",
        changeMessageInvisibletime.rawValue: "CHANGE_MESSAGE_INVISIBLETIME",
        notification.rawValue: "NOTIFICATION",
        petrelGetCompressionDictionary.rawValue: "PETREL_GET_COMPRESSION_DICTIONARY",
    ]
}
