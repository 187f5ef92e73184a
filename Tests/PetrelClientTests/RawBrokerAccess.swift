import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting

/// Reads what a broker stored, with raw remoting requests (no PetrelClient code on this path), so
/// the tests check the client against the broker rather than against itself.
struct RawBrokerAccess {
    /// The remoting client used for the checks.
    let client = RemotingClient(group: MultiThreadedEventLoopGroup.singleton)

    /// Messages of `topic`/`queueId` from `offset` on (PULL_MESSAGE, no long polling); empty when none.
    func pull(address: String, topic: String, queueId: Int32, offset: Int64 = 0, maximum: Int32 = 32) async throws -> [StoredMessage] {
        let request = RemotingCommand.request(code: .pullMessage, extFields: [
            "consumerGroup": "client-test-reader", "topic": topic, "queueId": String(queueId), "queueOffset": String(offset),
            "maxMsgNums": String(maximum), "sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0",
            "subscription": "*", "subVersion": "0",
        ])
        let response = try await client.invoke(address: address, request: request, timeout: .seconds(10))
        guard response.responseCode == .success, let body = response.body else { return [] }
        return try body.withUnsafeReadableBytes { try StoredMessageCodec.decodeAll($0) }
    }

    /// Every message of every queue `0..<queueCount` of `topic` on `address`.
    func pullAll(address: String, topic: String, queueCount: Int32 = 8) async throws -> [StoredMessage] {
        var all: [StoredMessage] = []
        for queueId in 0..<queueCount {
            var offset: Int64 = 0
            while true {
                let batch = try await pull(address: address, topic: topic, queueId: queueId, offset: offset)
                if batch.isEmpty { break }
                all += batch
                offset = batch.last!.queueOffset.rawValue + 1
            }
        }
        return all
    }

    /// The next queue offset of `topic`/`queueId` (GET_MAX_OFFSET).
    func maxOffset(address: String, topic: String, queueId: Int32) async throws -> Int64 {
        let request = RemotingCommand.request(code: .getMaxOffset, extFields: ["topic": topic, "queueId": String(queueId)])
        let response = try await client.invoke(address: address, request: request, timeout: .seconds(10))
        return Int64(response.extFields["offset"] ?? "") ?? -1
    }

    /// The client ids of `group`'s consumers at the broker (GET_CONSUMER_LIST_BY_GROUP); empty when none.
    func consumerIds(address: String, group: String) async throws -> [String] {
        let request = RemotingCommand.request(code: .getConsumerListByGroup, extFields: ["consumerGroup": group])
        let response = try await client.invoke(address: address, request: request, timeout: .seconds(10))
        guard response.responseCode == .success, let body = response.body else { return [] }
        guard case .object(let members) = try JSONValue.parse(body), case .array(let ids)? = members["consumerIdList"] else { return [] }
        return ids.compactMap { if case .string(let id) = $0 { id } else { nil } }
    }

    /// Closes the connections.
    func close() async {
        await client.shutdown()
    }
}
