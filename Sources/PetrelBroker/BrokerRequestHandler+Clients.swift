import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Client management: HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38) and
/// the NOTIFY_CONSUMER_IDS_CHANGED (40) notices they trigger (spec §7).
extension BrokerRequestHandler {
    /// Registers the client's producer and consumer groups, makes sure each consumer group has its
    /// `%RETRY%` topic, and tells a group's clients when its membership changed.
    func heartbeat(_ request: RemotingCommand, client: any ClientChannel) async throws(RequestFailure) -> RemotingCommand {
        guard let body = request.body, body.readableBytes > 0 else {
            throw RequestFailure(.systemError, "the heartbeat body is missing")
        }
        let data: HeartbeatData
        do { data = try HeartbeatData(jsonBuffer: body) } catch {
            throw RequestFailure(.systemError, "the heartbeat body is not HeartbeatData JSON: \(error.message)")
        }
        guard !data.clientID.isEmpty else { throw RequestFailure(.systemError, "the heartbeat's clientID is empty") }
        let registered = RegisteredClient(
            clientId: data.clientID, channel: client, language: request.language, version: request.version, lastHeartbeat: now)
        var changedGroups: [String] = []
        var topicsCreated = false
        for consumer in data.consumerDataSet where !consumer.groupName.isEmpty {
            let (found, failure) = subscriptionGroups.findOrCreate(consumer.groupName)
            report(failure, while: "creating subscription group \(consumer.groupName)")
            if let group = found {
                let retry = topics.ensure(
                    SystemNames.retryTopic(group: consumer.groupName), queueNumbers: max(group.retryQueueNums, 1), perm: .readWrite)
                report(retry.persistFailure, while: "creating the retry topic of \(consumer.groupName)")
                topicsCreated = topicsCreated || retry.created
            }
            let changed = clients.registerConsumer(consumer, client: registered)
            if changed, found?.notifyConsumerIdsChangedEnable ?? true { changedGroups.append(consumer.groupName) }
        }
        for producer in data.producerDataSet where !producer.groupName.isEmpty {
            clients.registerProducer(group: producer.groupName, client: registered)
        }
        if topicsCreated { topicsChanged() }
        for group in changedGroups {
            logger.info("consumer group changed", metadata: ["group": "\(group)", "client": "\(data.clientID)"])
            await notifyConsumerIdsChanged(group: group)
        }
        return request.response()
    }

    /// Removes the client from the named groups; the remaining consumers of a group it left are told.
    func unregisterClient(_ request: RemotingCommand, client: any ClientChannel) async throws(RequestFailure) -> RemotingCommand {
        let fields = RequestFields(command: request)
        let clientId = try fields.string("clientID")
        if let group = fields.optionalString("producerGroup"), !group.isEmpty {
            clients.unregisterProducer(group: group, channelId: client.id)
        }
        if let group = fields.optionalString("consumerGroup"), !group.isEmpty,
           clients.unregisterConsumer(group: group, channelId: client.id) {
            logger.info("consumer left", metadata: ["group": "\(group)", "client": "\(clientId)"])
            if subscriptionGroups.group(group)?.notifyConsumerIdsChangedEnable ?? true {
                await notifyConsumerIdsChanged(group: group)
            }
        }
        return request.response()
    }

    /// `{"consumerIdList":[…]}` of a group; SYSTEM_ERROR when it has no connected consumer (as Java).
    func consumerList(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let group = try RequestFields(command: request).string("consumerGroup")
        let ids = clients.consumerIds(group: group)
        guard !ids.isEmpty else { throw RequestFailure(.systemError, "no consumer for this group, \(group)") }
        let body = JSONValue.object(["consumerIdList": .strings(ids)])
        return request.response(body: ByteBuffer(bytes: body.serialized()))
    }

    /// Sends NOTIFY_CONSUMER_IDS_CHANGED (oneway, ext `consumerGroup`) to every client of `group`,
    /// concurrently, so one slow connection does not delay the others. A failed send is logged: the
    /// client's periodic rebalance catches up anyway.
    public func notifyConsumerIdsChanged(group: String) async {
        let channels = clients.consumerChannels(group: group)
        guard !channels.isEmpty else { return }
        let logger = logger
        await withTaskGroup(of: Void.self) { tasks in
            for channel in channels {
                tasks.addTask {
                    let notice = RemotingCommand.request(code: .notifyConsumerIdsChanged, extFields: ["consumerGroup": group])
                    do { try await channel.invokeOneway(notice) } catch {
                        logger.info("could not notify a consumer of a group change", metadata: [
                            "group": "\(group)", "remote": "\(channel.remoteAddress)", "error": "\(error)",
                        ])
                    }
                }
            }
        }
    }

    /// Forgets the clients of a closed connection and tells the groups they left.
    public func connectionClosed(_ channel: any ClientChannel) async {
        for group in clients.connectionClosed(channel.id) where subscriptionGroups.group(group)?.notifyConsumerIdsChangedEnable ?? true {
            await notifyConsumerIdsChanged(group: group)
        }
    }

    /// Drops clients silent for longer than `expiry` ms, closes their connections and tells the
    /// groups they left; then sweeps queue locks past their lifetime (a lock whose holder vanished
    /// without unlocking would otherwise stay in the table until another client asked for the queue).
    /// `time` is now unless a test passes another moment.
    public func expireClients(expiry: Int64 = ClientRegistry.defaultExpiry, now time: Int64? = nil) async {
        let moment = time ?? now
        let swept = queueLocks.removeExpired(now: moment)
        if swept > 0 { logger.debug("expired queue locks removed", metadata: ["count": "\(swept)"]) }
        let (expired, groups) = clients.expire(now: moment, expiry: expiry)
        for client in expired {
            logger.info("closing a silent client", metadata: ["client": "\(client.clientId)", "remote": "\(client.channel.remoteAddress)"])
            client.channel.close()
        }
        for group in groups where subscriptionGroups.group(group)?.notifyConsumerIdsChangedEnable ?? true {
            await notifyConsumerIdsChanged(group: group)
        }
    }
}
