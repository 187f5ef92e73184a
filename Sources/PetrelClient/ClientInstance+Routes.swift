import PetrelCore
import PetrelRemoting

/// Topic routes: fetched from the name servers on first use, cached, and fetched again every
/// `pollNameServerInterval` by the maintenance loop (Java `updateTopicRouteInfoFromNameServer`).
extension ClientInstance {
    /// The cached route of `topic`, fetching it when there is none. Throws `.topicNotFound` when the
    /// name servers know no route.
    public func topicRoute(_ topic: String) async throws(ClientError) -> TopicRoute {
        if let cached = routes.route(topic) { return cached }
        return try await refreshRoute(topic)
    }

    /// Fetches `topic`'s route from the name servers now and caches it. Throws `.topicNotFound` when
    /// they know none (the cached route, if any, is kept: the name server may have lost it briefly).
    @discardableResult
    public func refreshRoute(_ topic: String) async throws(ClientError) -> TopicRoute {
        guard let data = try await fetchRouteData(topic) else {
            throw ClientError(.topicNotFound, "no route for topic \(topic) at the name servers", responseCode: .topicNotExist)
        }
        let route = TopicRoute(topic: topic, data: data)
        cache(route)
        return route
    }

    /// The route a producer uses for a topic the name servers do not know yet: the template topic's
    /// route (`TBW102`) with at most `queueCount` queues per broker group, cached under `topic`, so a
    /// send can reach a broker that auto-creates the topic (Java `tryToFindTopicPublishInfo`).
    /// Throws `.topicNotFound` when the template has no route either.
    public func templateRoute(for topic: String, template: String, queueCount: Int32) async throws(ClientError) -> TopicRoute {
        guard var data = try await fetchRouteData(template) else {
            throw ClientError(
                .topicNotFound,
                "no route for topic \(topic), and no route for the auto-create template \(template) either",
                responseCode: .topicNotExist)
        }
        for index in data.queueDatas.indices {
            data.queueDatas[index].readQueueNums = min(queueCount, data.queueDatas[index].readQueueNums)
            data.queueDatas[index].writeQueueNums = min(queueCount, data.queueDatas[index].writeQueueNums)
        }
        let route = TopicRoute(topic: topic, data: data)
        cache(route)
        return route
    }

    /// Queues `topic` can be sent to (cached route, fetched when missing).
    public func publishQueues(_ topic: String) async throws(ClientError) -> [MessageQueue] {
        try await topicRoute(topic).publishQueues
    }

    /// Queues `topic` can be consumed from (cached route, fetched when missing).
    public func subscribeQueues(_ topic: String) async throws(ClientError) -> [MessageQueue] {
        try await topicRoute(topic).subscribeQueues
    }

    /// The master address of `brokerName` from any cached route, nil when unknown.
    public func masterAddress(brokerName: String) -> String? {
        routes.masterAddress(brokerName: brokerName)
    }

    /// Every known broker address, by broker name and broker id (0 = master).
    public var knownBrokers: [String: [Int64: String]] {
        routes.brokers
    }

    /// The topics whose routes are cached (and refreshed periodically).
    public var knownTopics: [String] {
        routes.topics
    }

    /// Fetches every cached topic's route again; failures keep the old route and are logged.
    func refreshAllRoutes() async {
        for topic in routes.topics {
            do {
                try await refreshRoute(topic)
            } catch {
                logger.debug("route refresh failed; keeping the cached route", metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
        }
    }

    /// GET_ROUTEINFO_BY_TOPIC (105): the route, nil for TOPIC_NOT_EXIST.
    func fetchRouteData(_ topic: String) async throws(ClientError) -> TopicRouteData? {
        try requireRunning()
        let request = RemotingCommand.request(code: .getRouteinfoByTopic, extFields: ["topic": topic])
        let response = try await invokeNameServer(request)
        switch response.responseCode {
        case .success:
            guard let body = response.body else {
                throw ClientError(.malformedResponse, "the route of topic \(topic) came without a body")
            }
            do {
                return try TopicRouteData(jsonBuffer: body)
            } catch {
                throw ClientError.malformed(error, doing: "decoding the route of topic \(topic)", address: nil)
            }
        case .topicNotExist:
            return nil
        default:
            throw ClientError.response(response, doing: "GET_ROUTEINFO_BY_TOPIC for \(topic)", address: nil)
        }
    }

    /// Caches `route`; brokers it names for the first time get a heartbeat right away, so they know
    /// this client's groups before its first request (a transaction check-back needs the producer).
    private func cache(_ route: TopicRoute) {
        let added = routes.store(route)
        guard !added.isEmpty, registrations.withLock({ !$0.isEmpty }) else { return }
        Task { [self] in
            for address in added { await sendHeartbeat(to: address) }
        }
    }
}
