import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// The header of PULL_MESSAGE (11), spec §9.
struct PullRequestHeader: Sendable {
    /// PullSysFlag bit 0: store `commitOffset` for the group.
    static let commitOffsetFlag: Int32 = 1
    /// PullSysFlag bit 1: the request may be held (long polling).
    static let suspendFlag: Int32 = 2
    /// PullSysFlag bit 2: use this request's `subscription` rather than the heartbeat's.
    static let subscriptionFlag: Int32 = 4

    /// The pulling group.
    var consumerGroup: String
    /// The topic.
    var topic: String
    /// The queue.
    var queueId: Int32
    /// Where to read from.
    var queueOffset: Int64
    /// Most messages wanted.
    var maxMessageCount: Int32
    /// PullSysFlag bits.
    var sysFlag: Int32
    /// The offset to commit when bit 0 is set.
    var commitOffset: Int64
    /// How long the request may be held, in milliseconds.
    var suspendTimeoutMilliseconds: Int64
    /// The subscription expression, when sent.
    var subscription: String?
    /// `TAG` or `SQL92`; absent means TAG.
    var expressionType: String?

    /// Decodes the header; the fields Java requires must be present.
    init(_ command: RemotingCommand) throws(RequestFailure) {
        let fields = RequestFields(command: command)
        consumerGroup = try fields.nonEmptyString("consumerGroup")
        topic = try fields.nonEmptyString("topic")
        queueId = try fields.int32("queueId")
        queueOffset = try fields.int64("queueOffset")
        maxMessageCount = try fields.int32("maxMsgNums")
        sysFlag = try fields.int32("sysFlag")
        commitOffset = try fields.int64("commitOffset")
        suspendTimeoutMilliseconds = try fields.int64("suspendTimeoutMillis")
        subscription = fields.optionalString("subscription")
        expressionType = fields.optionalString("expressionType")
    }

    /// The queue pulled.
    var queue: QueueKey { QueueKey(topic: topic, queueId: queueId) }
}

/// PULL_MESSAGE (11), spec §9.
extension BrokerRequestHandler {
    /// What one read of the queue produced, mapped to the pull response's code.
    struct PullOutcome {
        /// The response code.
        var code: ResponseCode
        /// The store's read result (records, bounds).
        var result: GetResult
        /// Where the client continues.
        var nextBeginOffset: Int64
    }

    /// Checks the request, commits a piggy-backed offset, reads, holds the request when nothing is
    /// new and it may be suspended, and answers.
    func pull(_ request: RemotingCommand, client: any ClientChannel) async throws(RequestFailure) -> RemotingCommand {
        let header = try PullRequestHeader(request)
        let (found, failure) = subscriptionGroups.findOrCreate(header.consumerGroup)
        report(failure, while: "creating subscription group \(header.consumerGroup)")
        guard let group = found else {
            throw RequestFailure(.subscriptionGroupNotExist, "subscription group [\(header.consumerGroup)] does not exist")
        }
        guard group.consumeEnable else {
            throw RequestFailure(.noPermission, "subscription group no permission, \(header.consumerGroup)")
        }
        let topic = try existingTopic(header.topic)
        guard topic.perm.isReadable else {
            throw RequestFailure(.noPermission, "the topic[\(header.topic)] pulling message is forbidden")
        }
        guard header.queueId >= 0, header.queueId < topic.readQueueNums else {
            throw RequestFailure(.systemError,
                "queueId[\(header.queueId)] is illegal, topic:[\(header.topic)] topicConfig.readQueueNums:[\(topic.readQueueNums)] consumer:[\(client.remoteAddress)]")
        }
        let filter = try tagFilter(header)
        if header.sysFlag & PullRequestHeader.commitOffsetFlag != 0, header.commitOffset >= 0, configuration.brokerRole != .slave {
            offsets.commit(group: header.consumerGroup, topic: header.topic, queueId: header.queueId, offset: header.commitOffset)
        }
        var outcome = read(header, filter: filter)
        if outcome.code == .pullNotFound, header.sysFlag & PullRequestHeader.suspendFlag != 0, header.suspendTimeoutMilliseconds > 0 {
            let asked = Duration.milliseconds(header.suspendTimeoutMilliseconds)
            let hold = configuration.longPollingEnable ? min(asked, Self.maximumSuspend) : min(asked, Self.shortPollingSuspend)
            let store = store
            await longPolling.waitForMessages(in: header.queue, beyond: header.queueOffset, until: ContinuousClock.now + hold) {
                store.maximumOffset(topic: header.topic, queueId: header.queueId).rawValue > header.queueOffset
            }
            outcome = read(header, filter: filter)
        }
        return pullResponse(request, header, outcome)
    }

    /// The tag filter of the pull: the request's own expression when it says so (sysFlag bit 2) or
    /// when the group never heartbeated one, else the group's registered subscription (spec §9).
    func tagFilter(_ header: PullRequestHeader) throws(RequestFailure) -> TagFilter {
        let subscription: SubscriptionData
        let registered = clients.subscription(group: header.consumerGroup, topic: header.topic)
        if let expression = header.subscription, header.sysFlag & PullRequestHeader.subscriptionFlag != 0 || registered == nil {
            let type = header.expressionType.flatMap { $0.isEmpty ? nil : $0 } ?? SubscriptionData.tagExpressionType
            subscription = SubscriptionData(topic: header.topic, subString: expression, expressionType: type)
        } else if let registered {
            subscription = registered
        } else {
            throw RequestFailure(.subscriptionNotExist,
                "the consumer's subscription not exist, group: \(header.consumerGroup) topic: \(header.topic)")
        }
        guard SubscriptionData.isTagExpression(subscription.expressionType) else {
            throw RequestFailure(.systemError, "The broker does not support consumer to filter message by \(subscription.expressionType)")
        }
        return subscription.subscribesAll ? .all : TagFilter(tags: Set(subscription.tagsSet))
    }

    /// Reads the queue once and maps the store's status to the pull code (spec §9's table).
    func read(_ header: PullRequestHeader, filter: TagFilter) -> PullOutcome {
        let count = Int(min(max(header.maxMessageCount, 1), Int32(Self.maximumPullCount)))
        let result = store.getMessages(
            topic: header.topic, queueId: header.queueId, offset: QueueOffset(header.queueOffset), maximumCount: count,
            maximumBytes: Self.maximumPullBytes, filter: filter)
        let offset = header.queueOffset
        let minimum = result.minimumOffset.rawValue
        let maximum = result.maximumOffset.rawValue
        func outcome(_ code: ResponseCode, _ next: Int64) -> PullOutcome {
            PullOutcome(code: code, result: result, nextBeginOffset: next)
        }
        switch result.status {
        case .found: return outcome(.success, result.nextBeginOffset.rawValue)
        case .noMatchedMessage: return outcome(.pullRetryImmediately, result.nextBeginOffset.rawValue)
        case .offsetFoundNull, .offsetOverflowOne: return outcome(.pullNotFound, result.nextBeginOffset.rawValue)
        case .offsetTooSmall, .offsetOverflowBadly: return outcome(.pullOffsetMoved, result.nextBeginOffset.rawValue)
        case .noMatchedLogicQueue, .noMessageInQueue:
            // A queue that never held a message; or one retention emptied, which still has real bounds.
            if maximum == 0 { return outcome(offset == 0 ? .pullNotFound : .pullOffsetMoved, 0) }
            if offset < minimum { return outcome(.pullOffsetMoved, minimum) }
            if offset == maximum { return outcome(.pullNotFound, offset) }
            return outcome(.pullOffsetMoved, maximum)
        }
    }
}
