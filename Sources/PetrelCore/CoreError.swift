/// The error every PetrelCore operation throws: a stable `code` to switch on, and a message for people.
public struct CoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds.
    public enum Code: String, Hashable, Sendable {
        /// Fewer bytes than the record or field needs.
        case truncated
        /// The magic code is not a known stored-message version.
        case badMagic
        /// A size field is negative or disagrees with the bytes present.
        case badSize
        /// The body does not match its stored CRC.
        case badChecksum
        /// A topic longer than 127 UTF-8 bytes (v1 layout limit).
        case topicTooLong
        /// Properties longer than 32767 bytes (int16 length).
        case propertiesTooLong
        /// A message id that is not well-formed hex of the right length.
        case badMessageId
        /// Text that is not JSON, even by the tolerant rules of `JSONParser`.
        case malformedJSON
        /// Well-formed JSON whose fields are missing or of the wrong type for the value being decoded.
        case invalidJSONField
        /// A zlib/deflate stream that is damaged, truncated, or fails its Adler-32 check.
        case malformedCompressedData
        /// A setting (a topic attribute, …) whose value is out of range or does not parse.
        case invalidArgument
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
