import Foundation
import NIOCore
import PetrelCore
import PetrelRemoting

/// The admin requests a subscribing pull consumer answers for its group: GET_CONSUMER_RUNNING_INFO
/// (307) and GET_CONSUMER_STATUS_FROM_CLIENT (221). It has no listener, so CONSUME_MESSAGE_DIRECTLY
/// does not apply, and RESET_CONSUMER_CLIENT_OFFSET is not handled yet.
extension PullConsumer: ConsumerAdminReporting {
    /// Registers the handlers on the client instance; `shutdown` removes them.
    func registerAdminHandlers() {
        let registrations = registerReportHandlers(group: configuration.group)
        adminRegistrations.withLockedValue { $0 += registrations }
    }

    /// The committed offset of `queue`, else the next offset a poll would read.
    private func progress(of queue: MessageQueue, assigned: [MessageQueue: Int64]) -> Int64 {
        offsetStore.offset(of: queue) ?? assigned[queue] ?? -1
    }

    /// Java's `ConsumerRunningInfo` of a CONSUME_ACTIVELY consumer: settings, subscriptions and one
    /// entry per assigned queue with its offset (a pull consumer caches no messages).
    func runningInfoText() -> String {
        let assigned = state.withLockedValue { $0.assigned }
        let properties: [String: String] = [
            "PROP_NAMESERVER_ADDR": configuration.client.nameServerAddresses.joined(separator: ";"),
            "PROP_CONSUME_TYPE": ConsumeType.consumeActively.javaName,
            "PROP_CONSUMEORDERLY": "false",
            "PROP_CLIENT_VERSION": "Petrel \(PetrelClientModule.version)",
            "consumerGroup": configuration.group,
            "messageModel": MessageModel.clustering.javaName,
            "consumeFromWhere": configuration.consumeFromWhere.javaName,
        ]
        var table: [MessageQueue: JSONValue] = [:]
        for queue in assigned.keys {
            table[queue] = .object([
                "commitOffset": .integer(progress(of: queue, assigned: assigned)),
                "cachedMsgCount": .integer(0), "cachedMsgMinOffset": .integer(0), "cachedMsgMaxOffset": .integer(0),
                "cachedMsgSizeInMiB": .integer(0), "locked": .bool(false), "droped": .bool(false),
            ])
        }
        return ConsumerAdminBodies.runningInfo(properties: properties, subscriptions: subscriptions, queues: table)
    }

    /// Java's `GetConsumerStatusBody`: the offset of each assigned queue of `topic`.
    func statusText(topic: String) -> String {
        let assigned = state.withLockedValue { $0.assigned }
        var offsets: [MessageQueue: JSONValue] = [:]
        for queue in assigned.keys where queue.topic == topic { offsets[queue] = .integer(progress(of: queue, assigned: assigned)) }
        return ConsumerAdminBodies.status(offsets: offsets)
    }
}
