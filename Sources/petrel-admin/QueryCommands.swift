import ArgumentParser
import PetrelCore
import PetrelRemoting

/// `queryMsgByKey`: messages of a topic whose KEYS contain a key, across the topic's brokers.
struct QueryMsgByKeyCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "queryMsgByKey", abstract: "Query messages by key.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The key.
    @Option(name: [.customShort("k"), .customLong("msgKey")], help: "Message key.") var key: String
    /// Start of the store-time range, milliseconds.
    @Option(name: [.customShort("b"), .customLong("beginTimestamp")], help: "Begin timestamp (ms).") var begin: Int64 = 0
    /// End of the store-time range, milliseconds.
    @Option(name: [.customShort("e"), .customLong("endTimestamp")], help: "End timestamp (ms).") var end: Int64 = Int64.max
    /// Most messages per broker.
    @Option(name: [.customShort("c"), .customLong("maxNum")], help: "Most messages per broker.") var maxNum: Int32 = 64

    /// Sends QUERY_MESSAGE to every master of the topic and prints the matches.
    func run() async throws {
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            var found: [StoredMessage] = []
            for broker in route.brokerDatas.sorted(by: { $0.brokerName < $1.brokerName }) {
                guard let address = broker.masterAddress else { continue }
                let fields = [
                    "topic": topic, "key": key, "maxNum": String(maxNum), "beginTimestamp": String(begin),
                    "endTimestamp": String(end),
                ]
                let response = try await session.call(address, .queryMessage, fields)
                if response.responseCode == .queryNotFound { continue }
                try session.expectSuccess(response, "QUERY_MESSAGE on \(address)")
                // Brokers match on index hashes; keep only real matches, as clients do (spec §16).
                found += try AdminSession.storedMessages(response.body).filter {
                    $0.message.topic == topic && ($0.message.keys.contains(key) || $0.message.uniqueKey == key)
                }
            }
            Output.messages(found, json: common.json)
        }
    }
}

/// `queryMsgById`: one message by its offset message id (store host + commit-log offset).
struct QueryMsgByIdCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "queryMsgById", abstract: "Query a message by offset message id.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The offset message id.
    @Option(name: [.customShort("i"), .customLong("msgId")], help: "Offset message id (32 hex digits).") var msgId: String
    /// With `-d`: the group whose client consumes the message directly.
    @Option(name: [.customShort("g"), .customLong("consumerGroup")], help: "With -d: have this group's client consume it.")
    var group: String?
    /// With `-g`: the client that consumes the message directly.
    @Option(name: [.customShort("d"), .customLong("clientId")], help: "With -g: the client id that consumes it.")
    var clientId: String?

    /// Rejects an id that is not an offset id, and `-g` without `-d` or the reverse.
    func validate() throws {
        do { _ = try MessageId.decodeOffsetId(msgId) } catch { throw ValidationError(error.message) }
        if (group == nil) != (clientId == nil) { throw ValidationError("-g and -d go together") }
    }

    /// Sends VIEW_MESSAGE_BY_ID to the id's store host; with `-g` and `-d`, CONSUME_MESSAGE_DIRECTLY
    /// instead (the broker forwards the message to that client) and prints the client's result.
    func run() async throws {
        try await runAdmin(common) { session in
            let (host, offset) = try MessageId.decodeOffsetId(msgId)
            let address = "\(host.addressText):\(host.port)"
            if let group, let clientId {
                let response = try session.expectSuccess(try await session.call(address, .consumeMessageDirectly, [
                    "consumerGroup": group, "clientId": clientId, "msgId": msgId,
                ]), "CONSUME_MESSAGE_DIRECTLY to \(clientId)")
                let result = try session.decodeJSON(response, "consume result")
                return common.json ? Output.json(result) : print("ConsumeMessageDirectlyResult: \(result.serializedString)")
            }
            let response = try await session.call(address, .viewMessageById, ["offset": String(offset.rawValue)])
            try session.expectSuccess(response, "VIEW_MESSAGE_BY_ID \(msgId)")
            guard let message = try AdminSession.storedMessages(response.body).first else {
                throw AdminError("message \(msgId) not found")
            }
            if common.json { Output.json(Output.messageJSON(message)) } else { Output.messageDetail(message) }
        }
    }
}

/// `queryMsgByOffset`: the message at one queue offset, read with PULL_MESSAGE.
struct QueryMsgByOffsetCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(commandName: "queryMsgByOffset", abstract: "Query a message by queue offset.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The broker group.
    @Option(name: [.customShort("b"), .customLong("brokerName")], help: "Broker name.") var brokerName: String
    /// The queue.
    @Option(name: [.customShort("i"), .customLong("queueId")], help: "Queue id.") var queueId: Int32
    /// The queue offset.
    @Option(name: [.customShort("o"), .customLong("offset")], help: "Queue offset.") var offset: Int64

    /// Pulls one message at the offset.
    func run() async throws {
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            let queue = QueueRef(brokerName: brokerName, address: try session.masterAddress(route, brokerName: brokerName), queueId: queueId)
            let result = try await session.pull(group: AdminSession.toolsGroup, topic: topic, queue: queue, offset: offset, count: 1)
            if result.undecodableOffsets.contains(offset) {
                throw AdminError("""
                    the message at offset \(offset) of \(topic):\(brokerName):\(queueId) is stored but the broker cannot decompress its body: \
                    \(result.undecodableReason ?? "no reason given"); pulls by clients without zstd support skip it
                    """)
            }
            guard let message = result.messages.first, message.queueOffset.rawValue == offset else {
                throw AdminError("no message at offset \(offset) of \(topic):\(brokerName):\(queueId) (queue ends at \(result.maxOffset))")
            }
            if common.json { Output.json(Output.messageJSON(message)) } else { Output.messageDetail(message) }
        }
    }
}
