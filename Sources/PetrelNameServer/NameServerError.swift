import PetrelCore

/// The error every PetrelNameServer operation throws: a stable `code` to switch on, and a message
/// for people (modelled on PetrelCore's `CoreError`).
public struct NameServerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds.
    public enum Code: String, Hashable, Sendable {
        /// A request names no cluster, broker or address, or a negative broker id.
        case invalidRequest
        /// A registration body does not match the `bodyCrc32` its header carries.
        case checksumMismatch
        /// A request body cannot be decoded (bad JSON, bad compressed data …).
        case malformedBody
        /// A configuration setting is unknown or has an unusable value.
        case invalidConfiguration
    }

    /// What went wrong, stably.
    public var code: Code
    /// What went wrong, for people.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A malformed-body error wrapping the codec's error, so its text reaches the sender's log.
    public init(malformedBody cause: CoreError, decoding what: String) {
        self.init(.malformedBody, "cannot decode \(what): \(cause)")
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
