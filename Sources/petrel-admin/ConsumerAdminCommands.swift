import ArgumentParser
import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting

/// `resetOffsetByTime`: resets a group's offsets on a topic to the first message stored at or after a
/// time, through each master's INVOKE_BROKER_TO_RESET_OFFSET (222), so running consumers jump there
/// too (the broker sends them RESET_CONSUMER_CLIENT_OFFSET). A broker that answers
/// CONSUMER_NOT_ONLINE (a Java broker with no live consumer) is reset the old way, queue by queue,
/// as mqadmin falls back.
struct ResetOffsetByTimeCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(
        commandName: "resetOffsetByTime", abstract: "Reset a group's offsets on a topic to a time (live consumers follow).")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("group")], help: "Consumer group.") var group: String
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// The time.
    @Option(name: [.customShort("s"), .customLong("timestamp")],
            help: "Milliseconds since the epoch, 'now', or yyyy-MM-dd#HH:mm:ss:SSS (local time).")
    var timestamp: String
    /// Whether offsets may also move forward.
    @Option(name: [.customShort("f"), .customLong("force")], help: "Also move offsets forward.")
    var force = true
    /// mqadmin's switch for C++ consumers; Petrel's broker picks each client's body form itself.
    @Flag(name: [.customShort("c"), .customLong("cplus")], help: "Accepted for mqadmin compatibility (the broker adapts per client).")
    var cplus = false

    /// The time in milliseconds since the epoch.
    static func milliseconds(_ text: String) throws -> Int64 {
        if text == "now" { return Int64(Date().timeIntervalSince1970 * 1000) }
        if let value = Int64(text) { return value }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd#HH:mm:ss:SSS"
        guard let date = formatter.date(from: text) else {
            throw ValidationError("-s must be milliseconds since the epoch, 'now' or yyyy-MM-dd#HH:mm:ss:SSS, got \(text)")
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// Checks the time.
    func validate() throws { _ = try Self.milliseconds(timestamp) }

    /// Sends 222 to each master of the topic and prints the new offsets.
    func run() async throws {
        let milliseconds = try Self.milliseconds(timestamp)
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            var offsets: [MessageQueue: Int64] = [:]
            for broker in route.brokerDatas.sorted(by: { $0.brokerName < $1.brokerName }) {
                guard let address = broker.masterAddress else { continue }
                let fields = ["topic": topic, "group": group, "timestamp": String(milliseconds), "isForce": String(force)]
                let response = try await session.call(address, .invokeBrokerToResetOffset, fields)
                if response.responseCode == .consumerNotOnline {
                    offsets.merge(try await resetQueueByQueue(session, route: route, brokerName: broker.brokerName, at: milliseconds)) { $1 }
                    continue
                }
                try session.expectSuccess(response, "INVOKE_BROKER_TO_RESET_OFFSET on \(address)")
                do {
                    offsets.merge(try QueueKeyedOffsets.parse(Array(buffer: response.body ?? ByteBuffer()))) { $1 }
                } catch {
                    throw AdminError("the reset answer of \(address) is not a ResetOffsetBody: \(error)")
                }
            }
            let queues = offsets.keys.sorted()
            if common.json {
                let items: [JSONValue] = queues.map { queue in
                    .object(["brokerName": .string(queue.brokerName), "queueId": .integer(queue.queueId), "offset": .integer(offsets[queue] ?? 0)])
                }
                return Output.json(.object(["group": .string(group), "topic": .string(topic), "timestamp": .integer(milliseconds), "queues": .array(items)]))
            }
            Output.table(["#Broker Name", "#QID", "#New Offset"], queues.map { [$0.brokerName, String($0.queueId), String(offsets[$0] ?? 0)] })
        }
    }

    /// mqadmin's fallback: search each queue's offset for the time and commit it.
    func resetQueueByQueue(
        _ session: AdminSession, route: TopicRouteData, brokerName: String, at milliseconds: Int64
    ) async throws -> [MessageQueue: Int64] {
        var offsets: [MessageQueue: Int64] = [:]
        for queue in session.queues(route, brokerName: brokerName) {
            let offset = try await session.queueOffset(
                .searchOffsetByTimestamp, topic: topic, queue: queue, extra: ["timestamp": String(milliseconds)])
            try await session.commitOffset(group: group, topic: topic, queue: queue, offset: offset)
            offsets[MessageQueue(topic: topic, brokerName: brokerName, queueId: queue.queueId)] = offset
        }
        return offsets
    }
}

/// `getConsumerStatus`: each live client's offsets of a topic, collected by the brokers with
/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223 → GET_CONSUMER_STATUS_FROM_CLIENT to each client).
struct GetConsumerStatusCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(
        commandName: "getConsumerStatus", abstract: "Show the offsets each live consumer of a group holds for a topic.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("group")], help: "Consumer group.") var group: String
    /// The topic.
    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic name.") var topic: String
    /// Only this client.
    @Option(name: [.customShort("i"), .customLong("originClientId")], help: "Only this client id.") var clientId: String?

    /// Sends 223 to each master of the topic and prints one row per client and queue.
    func run() async throws {
        try await runAdmin(common) { session in
            let route = try await session.route(topic: topic)
            var table: [String: [MessageQueue: Int64]] = [:]
            for broker in route.brokerDatas.sorted(by: { $0.brokerName < $1.brokerName }) {
                guard let address = broker.masterAddress else { continue }
                var fields = ["topic": topic, "group": group]
                fields["clientAddr"] = clientId
                let response = try session.expectSuccess(
                    try await session.call(address, .invokeBrokerToGetConsumerStatus, fields), "INVOKE_BROKER_TO_GET_CONSUMER_STATUS on \(address)")
                let bytes = Array(buffer: response.body ?? ByteBuffer())
                for client in Self.clientIds(bytes) {
                    do {
                        table[client, default: [:]].merge(try QueueKeyedOffsets.parse(bytes, member: client)) { $1 }
                    } catch {
                        throw AdminError("the status answer of \(address) does not parse: \(error)")
                    }
                }
            }
            let rows = table.keys.sorted().flatMap { client in
                (table[client] ?? [:]).sorted { $0.key < $1.key }.map { (client, $0.key, $0.value) }
            }
            if common.json {
                let items: [JSONValue] = rows.map { client, queue, offset in
                    .object(["clientId": .string(client), "brokerName": .string(queue.brokerName), "queueId": .integer(queue.queueId), "offset": .integer(offset)])
                }
                return Output.json(.object(["group": .string(group), "topic": .string(topic), "clients": .strings(table.keys.sorted()), "queues": .array(items)]))
            }
            Output.table(["#ClientId", "#Broker Name", "#QID", "#Offset"], rows.map { [$0.0, $0.1.brokerName, String($0.1.queueId), String($0.2)] })
        }
    }

    /// The client ids heading `consumerTable`'s members (each followed by a queue-keyed object).
    static func clientIds(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let start = text.range(of: #""consumerTable":{"#) else { return [] }
        var ids: [String] = []
        var depth = 0
        var index = start.upperBound
        while index < text.endIndex {
            let character = text[index]
            if character == "{" { depth += 1 } else if character == "}" {
                if depth == 0 { break }
                depth -= 1
            } else if character == "\"", depth == 0, let close = text[text.index(after: index)...].firstIndex(of: "\"") {
                ids.append(String(text[text.index(after: index)..<close]))
                index = close
            }
            index = text.index(after: index)
        }
        return ids
    }
}

/// `consumerStatus`: the live clients of a group (GET_CONSUMER_LIST_BY_GROUP on every master) and,
/// with `-i`, that client's running info, fetched through its broker (GET_CONSUMER_RUNNING_INFO,
/// 307) and printed as the client wrote it (fastjson text with queue-object keys, spec §3).
struct ConsumerStatusCommand: AsyncParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(
        commandName: "consumerStatus", abstract: "List a group's live consumers, or show one consumer's running info.")
    /// Name server and format.
    @OptionGroup var common: CommonOptions
    /// The group.
    @Option(name: [.customShort("g"), .customLong("consumerGroup")], help: "Consumer group.") var group: String
    /// The client whose running info is shown.
    @Option(name: [.customShort("i"), .customLong("clientId")], help: "Show this client's running info.") var clientId: String?
    /// Asks for a thread dump (Java clients only).
    @Flag(name: [.customShort("s"), .customLong("jstack")], help: "Ask for a thread dump (Java clients only).") var jstack = false

    /// Lists the clients, or prints one client's running info.
    func run() async throws {
        try await runAdmin(common) { session in
            var members: [(clientId: String, broker: String)] = []
            for master in try await session.allMasters() {
                let response = try await session.call(master.address, .getConsumerListByGroup, ["consumerGroup": group])
                guard response.responseCode == .success, let body = response.body,
                      case .object(let root)? = try? JSONValue.parse(body), case .array(let ids)? = root["consumerIdList"] else { continue }
                for case .string(let id) in ids where !members.contains(where: { $0.clientId == id }) { members.append((id, master.address)) }
            }
            guard !members.isEmpty else { throw AdminError("consumer group \(group) has no live consumer") }
            guard let clientId else {
                if common.json {
                    let items: [JSONValue] = members.map { .object(["clientId": .string($0.clientId), "brokerAddr": .string($0.broker)]) }
                    return Output.json(.object(["group": .string(group), "clients": .array(items)]))
                }
                return Output.table(["#Index", "#ClientId", "#Broker"], members.enumerated().map { [String($0.offset + 1), $0.element.clientId, $0.element.broker] })
            }
            guard let member = members.first(where: { $0.clientId == clientId }) else {
                throw AdminError("client \(clientId) is not a live consumer of group \(group)")
            }
            let response = try session.expectSuccess(try await session.call(member.broker, .getConsumerRunningInfo, [
                "consumerGroup": group, "clientId": clientId, "jstackEnable": String(jstack),
            ]), "GET_CONSUMER_RUNNING_INFO of \(clientId)")
            print(response.body.map { String(buffer: $0) } ?? "")
        }
    }
}
