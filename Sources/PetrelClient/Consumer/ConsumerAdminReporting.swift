import NIOConcurrencyHelpers
import NIOCore
import PetrelRemoting

/// A consumer that answers the report requests admin tools send every subscribing consumer of a
/// group through its broker: GET_CONSUMER_RUNNING_INFO (307) and GET_CONSUMER_STATUS_FROM_CLIENT
/// (221). Push and pull consumers differ only in the bodies they write, so the handlers live here once.
protocol ConsumerAdminReporting: AnyObject, Sendable {
    /// The client instance the handlers are registered on.
    var client: ClientInstance { get }
    /// The registrations `removeAdminHandlers` removes at shutdown.
    var adminRegistrations: NIOLockedValueBox<[InboundHandlerRegistration]> { get }
    /// Java's `ConsumerRunningInfo` text of this consumer.
    func runningInfoText() -> String
    /// Java's `GetConsumerStatusBody` text: this consumer's offsets of `topic`.
    func statusText(topic: String) -> String
}

extension ConsumerAdminReporting {
    /// Registers the two report handlers, each claiming only requests naming `group`, and returns
    /// their registrations for the caller to store with any handlers of its own.
    func registerReportHandlers(group: String) -> [InboundHandlerRegistration] {
        let runningInfo = client.registerInboundHandler(code: .getConsumerRunningInfo) { [weak self] request, _ in
            guard let self, request.extFields["consumerGroup"] == group else { return .notMine }
            return .response(request.response(body: ByteBuffer(string: self.runningInfoText())))
        }
        let status = client.registerInboundHandler(code: .getConsumerStatusFromClient) { [weak self] request, _ in
            guard let self, request.extFields["group"] == group else { return .notMine }
            guard let topic = request.extFields["topic"], !topic.isEmpty else {
                return .response(request.response(code: .systemError, remark: "GET_CONSUMER_STATUS_FROM_CLIENT without a topic"))
            }
            return .response(request.response(body: ByteBuffer(string: self.statusText(topic: topic))))
        }
        return [runningInfo, status]
    }

    /// Removes every handler in `adminRegistrations` and empties it.
    func removeAdminHandlers() {
        let registrations = adminRegistrations.withLockedValue { registrations in
            defer { registrations = [] }
            return registrations
        }
        for registration in registrations { client.removeInboundHandler(registration) }
    }
}
