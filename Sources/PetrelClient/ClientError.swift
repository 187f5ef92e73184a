import PetrelCore
import PetrelRemoting

/// The error every PetrelClient operation throws: a stable `code` to switch on, a message for people,
/// and, when a broker or name server answered with a failure, its response code and remark.
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds (the C API maps each to a status code).
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// A caller's argument is unusable: empty topic, empty or oversized body, bad property name …
        case invalidArgument
        /// A configuration value is unusable; the message names it.
        case invalidConfiguration
        /// The client was used before `start()` or after `shutdown()`.
        case notStarted
        /// The client (or its instance) is shut down.
        case shutDown
        /// A producer or consumer group of this name is already registered in the client instance.
        case groupAlreadyRegistered
        /// The name servers know no route for the topic.
        case topicNotFound
        /// The topic's route has no queue usable for the operation (no writable or readable queue).
        case noQueueAvailable
        /// A broker name has no master address in the known routes.
        case brokerNotFound
        /// No connection could be opened, or it closed before the exchange finished.
        case connectionFailed
        /// No answer within the timeout (for sends: within the whole send timeout, retries included).
        case timeout
        /// A broker or name server answered with a failure code; see `responseCode` and `remark`.
        case brokerError
        /// An answer could not be understood (missing field, undecodable body).
        case malformedResponse
        /// Another remoting failure (encoding, protocol).
        case remotingFailed
    }

    /// What went wrong, stably.
    public var code: Code
    /// What went wrong, for people.
    public var message: String
    /// The failure code a broker or name server answered with, if that is what happened.
    public var responseCode: ResponseCode?
    /// The remark that came with `responseCode`.
    public var remark: String?
    /// The peer involved, `host:port`, if any.
    public var address: String?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, responseCode: ResponseCode? = nil, remark: String? = nil, address: String? = nil
    ) {
        self.code = code
        self.message = message
        self.responseCode = responseCode
        self.remark = remark
        self.address = address
    }

    /// `code: message [response N: remark] (address)`.
    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let responseCode { text += " [response \(responseCode.rawValue): \(remark ?? "")]" }
        if let address { text += " (\(address))" }
        return text
    }
}

extension ClientError {
    /// Wraps a remoting failure, keeping its kind: timeouts stay timeouts, connection trouble becomes
    /// `.connectionFailed`, a closed client `.shutDown`.
    init(_ error: RemotingError, doing action: String) {
        let code: Code
        switch error.code {
        case .timeout: code = .timeout
        case .connectFailed, .connectionClosed, .sendFailed, .invalidAddress, .cancelled: code = .connectionFailed
        case .shutDown: code = .shutDown
        default: code = .remotingFailed
        }
        self.init(code, "\(action): \(error.message)", address: error.address)
    }

    /// A failure answer: the message names the action, the code and the remark.
    static func response(_ response: RemotingCommand, doing action: String, address: String?) -> ClientError {
        let name = ResponseCode(rawValue: response.code).name ?? String(response.code)
        let remark = response.remark ?? ""
        return ClientError(
            .brokerError, "\(action) failed with \(name)\(remark.isEmpty ? "" : ": \(remark)")",
            responseCode: response.responseCode, remark: response.remark, address: address)
    }

    /// A core decoding failure of an answer.
    static func malformed(_ error: CoreError, doing action: String, address: String?) -> ClientError {
        ClientError(.malformedResponse, "\(action): \(error.message)", address: address)
    }
}
