import NIOCore
import PetrelCore
import PetrelRemoting

/// One queue of a topic on one broker group's master.
struct QueueRef: Sendable {
    /// The broker group.
    var brokerName: String
    /// Its master's address.
    var address: String
    /// The queue id.
    var queueId: Int32
}

/// What one PULL_MESSAGE returned.
struct PullResult: Sendable {
    /// The response code.
    var code: ResponseCode
    /// The messages read.
    var messages: [StoredMessage]
    /// Where to continue.
    var nextBeginOffset: Int64
    /// The queue's end.
    var maxOffset: Int64
    /// Queue offsets a Petrel broker left out because their stored bodies cannot be decompressed.
    var undecodableOffsets: [Int64] = []
    /// Why the first of them was left out.
    var undecodableReason: String?
}

/// A topic's body counters on one broker.
struct BodyCounters: Sendable {
    /// Body bytes received from producers.
    var received: Int64
    /// Body bytes stored (after compression).
    var stored: Int64
    /// Records left out of pulls since the broker started because their bodies cannot be decompressed.
    var undecodable: Int64
}

/// Queue-level requests: offsets, pulls and the queues of a route.
extension AdminSession {
    /// The group the tool pulls and queries with when none is given (mqadmin's `TOOLS_CONSUMER`).
    static let toolsGroup = "TOOLS_CONSUMER"

    /// Every readable queue of `route` on a master, sorted by broker then queue id; only
    /// `brokerName`'s when given.
    func queues(_ route: TopicRouteData, brokerName: String? = nil) -> [QueueRef] {
        var result: [QueueRef] = []
        for data in route.queueDatas.sorted(by: { $0.brokerName < $1.brokerName }) {
            if let brokerName, data.brokerName != brokerName { continue }
            guard let address = route.brokerDatas.first(where: { $0.brokerName == data.brokerName })?.masterAddress else { continue }
            for queueId in 0..<max(data.readQueueNums, data.writeQueueNums) {
                result.append(QueueRef(brokerName: data.brokerName, address: address, queueId: queueId))
            }
        }
        return result
    }

    /// An offset answer (`offset` ext field) of GET_MAX_OFFSET, GET_MIN_OFFSET or SEARCH_OFFSET_BY_TIMESTAMP.
    func queueOffset(_ code: RequestCode, topic: String, queue: QueueRef, extra: [String: String] = [:]) async throws(AdminError) -> Int64 {
        var fields = ["topic": topic, "queueId": String(queue.queueId)]
        fields.merge(extra) { $1 }
        let response = try expectSuccess(try await call(queue.address, code, fields), "\(code) for \(topic):\(queue.queueId)")
        guard let offset = response.optionalString("offset").flatMap({ Int64($0) }) else {
            throw AdminError("\(code) for \(topic):\(queue.queueId) returned no offset")
        }
        return offset
    }

    /// The topic's body bytes received and stored on `queue`'s broker and how often its pulls
    /// skipped a body that cannot be decompressed (Petrel's GET_MAX_OFFSET answer carries them;
    /// zero from a broker that does not).
    func bodyBytes(topic: String, queue: QueueRef) async throws(AdminError) -> BodyCounters {
        let fields = ["topic": topic, "queueId": String(queue.queueId)]
        let response = try expectSuccess(try await call(queue.address, .getMaxOffset, fields), "GET_MAX_OFFSET for \(topic)")
        func value(_ name: String) -> Int64 { response.optionalString(name).flatMap { Int64($0) } ?? 0 }
        return BodyCounters(received: value("bodyBytesReceived"), stored: value("bodyBytesStored"), undecodable: value("undecodableBodies"))
    }

    /// The group's committed offset in `queue`, nil when it has none.
    func consumerOffset(group: String, topic: String, queue: QueueRef) async throws(AdminError) -> Int64? {
        let fields = ["consumerGroup": group, "topic": topic, "queueId": String(queue.queueId)]
        let response = try await call(queue.address, .queryConsumerOffset, fields)
        if response.responseCode == .queryNotFound { return nil }
        try expectSuccess(response, "QUERY_CONSUMER_OFFSET for \(topic):\(queue.queueId)")
        return response.optionalString("offset").flatMap { Int64($0) }
    }

    /// Commits `offset` for `group` in `queue`.
    func commitOffset(group: String, topic: String, queue: QueueRef, offset: Int64) async throws(AdminError) {
        let fields = ["consumerGroup": group, "topic": topic, "queueId": String(queue.queueId), "commitOffset": String(offset)]
        try expectSuccess(try await call(queue.address, .updateConsumerOffset, fields), "UPDATE_CONSUMER_OFFSET")
    }

    /// Reads up to `count` messages of `queue` from `offset`, subscribing to everything.
    func pull(group: String, topic: String, queue: QueueRef, offset: Int64, count: Int32 = 32) async throws(AdminError) -> PullResult {
        let fields = [
            "consumerGroup": group, "topic": topic, "queueId": String(queue.queueId), "queueOffset": String(offset),
            "maxMsgNums": String(count), "sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0",
            "subscription": "*", "subVersion": "0", "expressionType": "TAG",
        ]
        let response = try await call(queue.address, .pullMessage, fields)
        let code = response.responseCode
        guard [.success, .pullNotFound, .pullRetryImmediately, .pullOffsetMoved].contains(code) else {
            throw AdminError("pulling \(topic):\(queue.queueId) failed: code \(response.code), \(response.remark ?? "no remark")")
        }
        let messages = code == .success ? try Self.storedMessages(response.body) : []
        return PullResult(
            code: code, messages: messages,
            nextBeginOffset: response.optionalString("nextBeginOffset").flatMap { Int64($0) } ?? offset,
            maxOffset: response.optionalString("maxOffset").flatMap { Int64($0) } ?? offset,
            undecodableOffsets: (response.optionalString("undecodableOffsets") ?? "").split(separator: ",").compactMap { Int64($0) },
            undecodableReason: response.optionalString("undecodableReason"))
    }

    /// Messages of `queue` from `offset` to its end, at most `limit`.
    func readQueue(group: String, topic: String, queue: QueueRef, from offset: Int64, limit: Int) async throws(AdminError) -> [StoredMessage] {
        var messages: [StoredMessage] = []
        var next = offset
        for _ in 0..<10_000 where messages.count < limit {
            let result = try await pull(group: group, topic: topic, queue: queue, offset: next)
            messages += result.messages
            guard result.code != .pullNotFound, result.nextBeginOffset != next else { break }
            next = result.nextBeginOffset
        }
        return Array(messages.prefix(limit))
    }
}
