import PetrelRemoting
import Synchronization

/// What an inbound-request handler did with a broker-initiated request.
public enum InboundRequestOutcome: Sendable {
    /// The request is not for this handler (another group's, say); the next handler is asked.
    case notMine
    /// Handled; answer with this response (ignored for oneway requests).
    case response(RemotingCommand)
    /// Handled; nothing to answer beyond an empty SUCCESS for a two-way request.
    case handled
}

/// A handler of requests a broker sends to the client (CHECK_TRANSACTION_STATE,
/// NOTIFY_CONSUMER_IDS_CHANGED, GET_CONSUMER_RUNNING_INFO …). `connection` is the broker connection
/// the request came on, so a handler can answer with a request of its own on it.
public typealias InboundRequestHandler = @Sendable (RemotingCommand, RemotingConnection) async -> InboundRequestOutcome

/// Identifies one registered inbound handler, for removing it.
public struct InboundHandlerRegistration: Hashable, Sendable {
    /// The request code handled.
    public let code: RequestCode
    /// Unique per registration.
    let serial: UInt64
}

/// The `RemotingRequestHandler` of a client instance: hands each broker-initiated request to the
/// handlers registered for its code, in registration order, until one claims it.
///
/// Several producers or consumers of one instance register for the same code; each checks whether
/// the request is its own (by group) and answers `.notMine` otherwise. A request no handler claims is
/// answered REQUEST_CODE_NOT_SUPPORTED with a remark (never for oneway requests).
final class InboundRequestRouter: RemotingRequestHandler {
    /// Handlers by code, in registration order.
    private let handlers = Mutex<[Int32: [(serial: UInt64, handler: InboundRequestHandler)]]>([:])
    /// Next registration serial.
    private let nextSerial = Atomic<UInt64>(1)

    /// Adds `handler` for `code`.
    func register(code: RequestCode, handler: @escaping InboundRequestHandler) -> InboundHandlerRegistration {
        let serial = nextSerial.wrappingAdd(1, ordering: .relaxed).oldValue
        handlers.withLock { $0[code.rawValue, default: []].append((serial, handler)) }
        return InboundHandlerRegistration(code: code, serial: serial)
    }

    /// Removes a registration; unknown ones are ignored.
    func remove(_ registration: InboundHandlerRegistration) {
        handlers.withLock { table in
            table[registration.code.rawValue]?.removeAll { $0.serial == registration.serial }
        }
    }

    /// Runs the handlers for `request`'s code.
    func handle(_ request: RemotingCommand, from connection: RemotingConnection) async -> RemotingCommand? {
        let candidates = handlers.withLock { $0[request.code] ?? [] }
        for candidate in candidates {
            switch await candidate.handler(request, connection) {
            case .notMine: continue
            case .response(let response): return response
            case .handled: return nil
            }
        }
        let name = request.requestCode.name ?? String(request.code)
        let reason = candidates.isEmpty ? "is not supported by this client" : "matches no group of this client"
        return request.response(code: .requestCodeNotSupported, remark: "request \(name) \(reason)")
    }
}
