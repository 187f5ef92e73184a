import NIOCore

/// The error every PetrelRemoting operation throws: a stable `code` to switch on, a message for people,
/// and where known the peer address involved (modelled on PetrelStore's `StoreError`).
public struct RemotingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds.
    public enum Code: String, Hashable, Sendable {
        /// A frame's `length` field is larger than the configured maximum.
        case frameTooLarge
        /// A frame is structurally impossible: negative or too-short length, a header longer than the
        /// frame, or a connection that closed in the middle of a frame.
        case malformedFrame
        /// The header (JSON or binary) cannot be decoded, or names an unknown serialize type.
        case badHeader
        /// A command cannot be written in its serialize type (a value does not fit its binary field).
        case encodeFailed
        /// A required `extFields` entry is absent.
        case missingField
        /// An `extFields` entry is present but not of the expected type.
        case invalidField
        /// The command cannot be sent as asked (a response given to `invoke`, a duplicate opaque …).
        case invalidRequest
        /// An address is not of the form `host:port`.
        case invalidAddress
        /// No connection could be opened to the address.
        case connectFailed
        /// The connection closed before the exchange finished.
        case connectionClosed
        /// Writing to the connection failed.
        case sendFailed
        /// No response arrived within the timeout.
        case timeout
        /// The waiting task was cancelled.
        case cancelled
        /// The server could not listen on the requested host and port.
        case bindFailed
        /// The client or server has been shut down.
        case shutDown
    }

    /// What went wrong, stably.
    public var code: Code
    /// What went wrong, for people.
    public var message: String
    /// The remote (or, for `bindFailed`, local) address involved, if any.
    public var address: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, address: String? = nil) {
        self.code = code
        self.message = message
        self.address = address
    }

    /// `code: message (address)`.
    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let address { text += " (\(address))" }
        return text
    }
}

extension RemotingError {
    /// A missing `extFields` entry; the message names the field so a client sees which one.
    static func missingField(_ key: String) -> RemotingError {
        RemotingError(.missingField, "the field \(key) is required")
    }

    /// An `extFields` entry whose text does not parse as `type`.
    static func invalidField(_ key: String, value: String, expected type: String) -> RemotingError {
        RemotingError(.invalidField, "the field \(key) must be \(type), got \"\(value)\"")
    }

    /// A waiting task was cancelled; its request may still be answered, and the answer is dropped.
    static func cancelled(address: String) -> RemotingError {
        RemotingError(.cancelled, "the waiting task was cancelled", address: address)
    }

    /// Converts whatever a channel operation failed with into a `RemotingError`, so the typed-throwing
    /// API never leaks NIO's error types and a closed channel always reads as `.connectionClosed`.
    static func wrapping(_ error: any Error, while action: String, address: String) -> RemotingError {
        if let remotingError = error as? RemotingError {
            return remotingError
        }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed, .eof:
                return RemotingError(.connectionClosed, "the connection closed while \(action)", address: address)
            default:
                break
            }
        }
        return RemotingError(.sendFailed, "\(action) failed: \(error)", address: address)
    }
}
