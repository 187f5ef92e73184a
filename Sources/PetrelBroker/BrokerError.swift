/// The error every PetrelBroker operation throws: a stable `code` and a message for people.
public struct BrokerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds.
    public enum Code: String, Hashable, Sendable {
        /// A configuration key that does not exist.
        case unknownConfigurationKey
        /// A configuration value that does not parse or is out of range.
        case invalidConfigurationValue
        /// A metadata file under `<storeRoot>/config/` could not be read or written.
        case metadataFailure
        /// A metadata file exists but does not hold what it should.
        case corruptMetadata
        /// The message store could not be opened or closed.
        case storeFailure
        /// The broker could not listen on its port.
        case bindFailed
        /// A body could not be compressed or decompressed (no compressor, unknown dictionary, bad frame).
        case compressionFailure
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

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
