/// How the broker compresses one topic's bodies in the store.
///
/// The settings live in the topic's `attributes` (RocketMQ 5's free-form topic settings, set with
/// `petrel-admin updateTopic -a +compression.type=zstd,...`); an attribute that is absent takes the
/// broker's default from `broker.conf`. Values are checked when set, so a bad value is refused with
/// the attribute's name instead of being ignored.
public struct TopicCompressionSettings: Hashable, Sendable {
    /// The attribute names, as they appear in `TopicConfig.attributes`.
    public enum Key {
        /// `none` or `zstd`.
        public static let type = "compression.type"
        /// The codec level (zstd: 1–22; negative levels are zstd's fast modes).
        public static let level = "compression.level"
        /// Bodies shorter than this many bytes are stored as sent.
        public static let minimumBodySize = "compression.min.body.size"
        /// `true` to train and use a zstd dictionary per topic, `false` for plain zstd.
        public static let dictionary = "compression.dictionary"
        /// `compact` (Petrel's compact commit-log records) or `standard` (RocketMQ's v1 layout).
        public static let recordFormat = "compression.record.format"
        /// Every compression attribute, for validation and listing.
        public static let all: [String] = [type, level, minimumBodySize, dictionary, recordFormat]
    }

    /// The codec names `compression.type` accepts.
    public enum Codec: String, Hashable, Sendable, CaseIterable {
        /// Bodies are stored as sent.
        case none
        /// Bodies are compressed with the broker's zstd compressor plugin.
        case zstd
    }

    /// Which codec, `none` for none.
    public var codec: Codec
    /// The level handed to the compressor.
    public var level: Int32
    /// Bodies shorter than this are stored as sent (compression would not pay for itself).
    public var minimumBodySize: Int
    /// True to use a per-topic trained dictionary once one exists.
    public var usesDictionary: Bool
    /// How the commit log stores the topic's records while compression is on: a compressed body
    /// of ~110 bytes would otherwise carry ~160 bytes of v1 header and properties.
    public var recordFormat: StoredRecordFormat

    /// Settings as given.
    public init(
        codec: Codec = .none, level: Int32 = 3, minimumBodySize: Int = 64, usesDictionary: Bool = true,
        recordFormat: StoredRecordFormat = .compact
    ) {
        self.codec = codec
        self.level = level
        self.minimumBodySize = minimumBodySize
        self.usesDictionary = usesDictionary
        self.recordFormat = recordFormat
    }

    /// True when bodies of this topic are compressed at all.
    public var isEnabled: Bool { codec != .none }

    /// The layout the topic's records are stored in: compact only while compression is on.
    public var effectiveRecordFormat: StoredRecordFormat { isEnabled ? recordFormat : .standard }

    /// `defaults` overridden by the compression attributes present in `attributes`; a value that
    /// does not parse is an error naming the attribute and what it accepts.
    public init(attributes: [String: String], defaults: TopicCompressionSettings) throws(CoreError) {
        self = defaults
        if let text = attributes[Key.type] {
            guard let codec = Codec(rawValue: text.lowercased()) else {
                throw Self.invalid(Key.type, text, "one of \(Codec.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.codec = codec
        }
        if let text = attributes[Key.level] {
            guard let level = Int32(text), (-131_072...22).contains(level) else {
                throw Self.invalid(Key.level, text, "an integer level, at most 22")
            }
            self.level = level
        }
        if let text = attributes[Key.minimumBodySize] {
            guard let size = Int(text), size >= 0 else { throw Self.invalid(Key.minimumBodySize, text, "a byte count of 0 or more") }
            self.minimumBodySize = size
        }
        if let text = attributes[Key.dictionary] {
            switch text.lowercased() {
            case "true": usesDictionary = true
            case "false": usesDictionary = false
            default: throw Self.invalid(Key.dictionary, text, "true or false")
            }
        }
        if let text = attributes[Key.recordFormat] {
            guard let format = StoredRecordFormat(rawValue: text.lowercased()) else {
                throw Self.invalid(Key.recordFormat, text, "compact or standard")
            }
            recordFormat = format
        }
    }

    /// The error for an attribute whose value does not parse.
    private static func invalid(_ key: String, _ value: String, _ expected: String) -> CoreError {
        CoreError(.invalidArgument, "topic attribute \(key)=\(value) is invalid: expected \(expected)")
    }
}
