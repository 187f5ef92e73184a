import Logging
import NIOCore
import PetrelCore
import PetrelRemoting

// MARK: Broker registration (103, 104, 322) and write permission (205, 327)

extension NameServerRequestHandler {
    /// REGISTER_BROKER (103, spec §6.4): records the broker and its topics. The answer carries, for a
    /// slave, its master's address and HA address (`masterAddr`, `haServerAddr`; omitted when unknown,
    /// as Java omits nulls), and as body the `ORDER_TOPIC_CONFIG` KV namespace when it exists.
    func registerBroker(_ request: RemotingCommand, connectionId: UInt64, logger: Logger) throws -> RemotingCommand {
        let brokerName = try request.string("brokerName")
        let brokerAddress = try request.string("brokerAddr")
        let cluster = try request.string("clusterName")
        let haServerAddress = try request.string("haServerAddr")
        let brokerId = try request.int64("brokerId")
        let compressed = try request.optionalBool("compressed") ?? false
        let bodyCrc32 = try request.optionalInt32("bodyCrc32") ?? 0
        let body = try RouteRegistry.decodeRegistrationBody(Self.bodyBytes(of: request), compressed: compressed, bodyCrc32: bodyCrc32)

        // Brokers re-register every 30 s; only the first registration is worth an info line.
        let isNew = registry.liveBrokers()[brokerAddress] == nil
        let result = try registry.registerBroker(
            cluster: cluster, brokerName: brokerName, brokerAddress: brokerAddress, brokerId: brokerId,
            haServerAddress: haServerAddress, body: body, connectionId: connectionId, now: clock())
        let metadata: Logger.Metadata = [
            "cluster": "\(cluster)", "broker": "\(brokerName)", "brokerId": "\(brokerId)", "address": "\(brokerAddress)",
            "topics": "\(body.topicConfigTable.count)", "dataVersion": "\(body.dataVersion.counter)",
        ]
        if isNew {
            logger.info("broker registered", metadata: metadata)
        } else {
            logger.debug("broker re-registered", metadata: metadata)
        }

        var extFields: [String: String] = [:]
        if let masterAddress = result.masterAddress { extFields["masterAddr"] = masterAddress }
        if let masterHAAddress = result.haServerAddress { extFields["haServerAddr"] = masterHAAddress }
        let orderTopics = registry.listKV(namespace: RouteRegistry.orderTopicConfigNamespace)
        return request.response(extFields: extFields, body: orderTopics?.jsonBuffer())
    }

    /// UNREGISTER_BROKER (104): a broker leaving on shutdown. SUCCESS even when it was not registered,
    /// as in Java, since the broker only wants to be gone.
    func unregisterBroker(_ request: RemotingCommand, logger: Logger) throws -> RemotingCommand {
        let brokerName = try request.string("brokerName")
        let brokerAddress = try request.string("brokerAddr")
        let cluster = try request.string("clusterName")
        let brokerId = try request.int64("brokerId")
        let removed = registry.unregisterBroker(cluster: cluster, brokerName: brokerName, brokerAddress: brokerAddress, brokerId: brokerId)
        logger.info(
            removed ? "broker unregistered" : "unregistration of a broker that was not registered",
            metadata: ["cluster": "\(cluster)", "broker": "\(brokerName)", "brokerId": "\(brokerId)", "address": "\(brokerAddress)"])
        return request.response()
    }

    /// QUERY_DATA_VERSION (322): whether the broker's topic table (the DataVersion body) differs from
    /// the registered one, in ext `changed`; the registered version, when there is one, as body.
    func queryDataVersion(_ request: RemotingCommand) throws -> RemotingCommand {
        // Java's header marks all four required, so a request without them is refused the same way.
        _ = try request.string("brokerName")
        _ = try request.string("clusterName")
        _ = try request.int64("brokerId")
        let brokerAddress = try request.string("brokerAddr")
        guard let body = request.body, body.readableBytes > 0 else {
            throw NameServerError(.malformedBody, "QUERY_DATA_VERSION needs a DataVersion body")
        }
        let dataVersion: DataVersion
        do {
            dataVersion = try DataVersion(jsonBuffer: body)
        } catch {
            throw NameServerError(malformedBody: error, decoding: "DataVersion body")
        }
        let result = registry.queryDataVersion(brokerAddress: brokerAddress, dataVersion: dataVersion, now: clock())
        return request.response(extFields: ["changed": String(result.changed)], body: result.current?.jsonBuffer())
    }

    /// WIPE_WRITE_PERM_OF_BROKER (205) / ADD_WRITE_PERM_OF_BROKER (327): the number of topics changed,
    /// in ext `wipeTopicCount` / `addTopicCount`.
    func changeWritePermission(_ request: RemotingCommand, grant: Bool, logger: Logger) throws -> RemotingCommand {
        let brokerName = try request.string("brokerName")
        let count = grant ? registry.addWritePermission(brokerName: brokerName) : registry.wipeWritePermission(brokerName: brokerName)
        logger.info(
            grant ? "write permission added" : "write permission wiped",
            metadata: ["broker": "\(brokerName)", "topics": "\(count)"])
        return request.response(extFields: [grant ? "addTopicCount" : "wipeTopicCount": String(count)])
    }
}

// MARK: Routes and topics (105, 216)

extension NameServerRequestHandler {
    /// GET_ROUTEINFO_BY_TOPIC (105): the TopicRouteData JSON, or TOPIC_NOT_EXIST naming the topic.
    ///
    /// The JSON is always standard (quoted broker-id keys), whatever `acceptStandardJsonOnly` or the
    /// client version say: every client in scope reads it (spec §6.1), so the field is not read.
    func route(_ request: RemotingCommand) throws -> RemotingCommand {
        let topic = try request.string("topic")
        let includeOrderTopicConfig = settings.withLock { $0.orderMessageEnable }
        guard let route = registry.route(topic: topic, includeOrderTopicConfig: includeOrderTopicConfig) else {
            // Routine: clients ask for %RETRY% and TBW102 routes that may not exist (spec §6.1).
            return request.response(code: .topicNotExist, remark: "No topic route info in name server for the topic: \(topic)")
        }
        return Self.json(request, route)
    }

    /// DELETE_TOPIC_IN_NAMESRV (216): removes the topic's queues, only those of `clusterName`'s
    /// broker groups when that optional field is given. SUCCESS even for an unknown topic, as in Java.
    func deleteTopic(_ request: RemotingCommand, logger: Logger) throws -> RemotingCommand {
        let topic = try request.string("topic")
        let cluster = request.optionalString("clusterName")
        let removed = registry.deleteTopic(topic, cluster: cluster)
        logger.info("topic deleted", metadata: ["topic": "\(topic)", "cluster": "\(cluster ?? "*")", "found": "\(removed)"])
        return request.response()
    }
}

// MARK: Name-server configuration (318, 319)

extension NameServerRequestHandler {
    /// GET_NAMESRV_CONFIG (319): the settings as properties text.
    func configurationText(_ request: RemotingCommand) -> RemotingCommand {
        let configuration = settings.withLock { $0 }
        let text = PropertiesText.render([
            (key: "listenPort", value: String(configuration.port)),
            (key: "orderMessageEnable", value: String(configuration.orderMessageEnable)),
        ])
        return request.response(body: ByteBuffer(string: text))
    }

    /// UPDATE_NAMESRV_CONFIG (318): applies a properties body. Only `orderMessageEnable` can change at
    /// run time; any other key refuses the whole update, so a half-applied change never happens.
    func updateConfiguration(_ request: RemotingCommand, logger: Logger) throws -> RemotingCommand {
        let entries = PropertiesText.parse(String(decoding: Self.bodyBytes(of: request), as: UTF8.self))
        if let fixed = entries.first(where: { $0.key == "listenPort" }) {
            throw NameServerError(.invalidConfiguration, "\(fixed.key) cannot be changed while the name server runs")
        }
        var updated = settings.withLock { $0 }
        try updated.apply(properties: entries)
        let orderMessageEnable = updated.orderMessageEnable
        settings.withLock { $0.orderMessageEnable = orderMessageEnable }
        logger.info("configuration updated", metadata: ["keys": "\(entries.map(\.key).joined(separator: ","))"])
        return request.response()
    }
}
