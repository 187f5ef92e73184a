import NIOCore
import PetrelCore
import PetrelRemoting
import PetrelStore

/// Store compression on the request paths: compressing sends, serving plain bodies to clients that
/// did not declare `acceptCompression`, topic attributes, and PETREL_GET_COMPRESSION_DICTIONARY (9001).
extension BrokerRequestHandler {
    /// The pull/query/view request field by which Petrel's client declares the codecs it decompresses.
    static let acceptCompressionField = "acceptCompression"

    /// `prepared` with each body compressed as its topic's settings say. The topic is the message's
    /// real topic: a delayed, timer or half message is parked under a system topic with the target
    /// in REAL_TOPIC, and is compressed for its target. A send already flagged zstd is refused
    /// (MESSAGE_ILLEGAL): that type marks the broker's own envelope, and a body without one would
    /// fail every pull of official clients.
    func compressing(_ prepared: PreparedSend) throws(RequestFailure) -> PreparedSend {
        if prepared.messages.contains(where: { $0.sysFlag.compression == .zstd }) {
            throw RequestFailure(.messageIllegal, "sysFlag compression type zstd is reserved for the broker's store compression; send the body uncompressed or zlib-compressed")
        }
        var result = prepared
        var cachedTopic: String?
        var cachedSettings = compression.configuration.defaults
        for index in result.messages.indices {
            let message = result.messages[index]
            let topic = message.message.properties[PropertyKey.realTopic] ?? message.message.topic
            if topic != cachedTopic {
                cachedTopic = topic
                cachedSettings = compressionSettings(topic: topic)
                // One queue per send, so the first message's topic decides the batch's layout.
                if index == result.messages.startIndex { result.format = cachedSettings.effectiveRecordFormat }
            }
            result.messages[index] = compression.compressed(message, topic: topic, settings: cachedSettings)
        }
        return result
    }

    /// The compression settings of `topic`: its attributes over the broker's defaults. Attributes
    /// are checked when set; a hand-edited value that does not parse is logged and the defaults used.
    func compressionSettings(topic: String) -> TopicCompressionSettings {
        let defaults = compression.configuration.defaults
        guard let attributes = topics.topic(topic)?.attributes, !attributes.isEmpty else { return defaults }
        do { return try TopicCompressionSettings(attributes: attributes, defaults: defaults) } catch {
            logger.error("a topic's compression attributes do not parse; using the broker's defaults",
                         metadata: ["topic": "\(topic)", "error": "\(error)"])
            return defaults
        }
    }

    /// Whether `request` declares (ext `acceptCompression`, comma-separated codecs) that its client
    /// decompresses zstd bodies itself.
    static func acceptsZstd(_ request: RemotingCommand) -> Bool {
        guard let value = request.optionalString(acceptCompressionField) else { return false }
        return value.split(separator: ",").contains { String($0).trimmingSpaces().lowercased() == "zstd" }
    }

    /// Appends `records` (single-message look-ups) for the client of `request`: verbatim when it
    /// accepts zstd, else with plain bodies. A record that cannot be decompressed fails the request
    /// (logged; SYSTEM_ERROR with the reason) rather than handing out a body the client cannot read;
    /// pulls leave such records out instead (`writePullBody`).
    func writeForClient(_ records: [StoredRecordSlice], request: RemotingCommand, into buffer: inout ByteBuffer) throws(RequestFailure) {
        let verbatim = Self.acceptsZstd(request)
        for record in records {
            do { try compression.write(record, verbatim: verbatim, into: &buffer) } catch {
                logger.error("a stored body cannot be decompressed for a client", metadata: [
                    "commitLogOffset": "\(record.commitLogOffset.rawValue)", "error": "\(error.message)",
                ])
                throw RequestFailure(.systemError, "cannot decompress a stored message body: \(error.message)")
            }
        }
    }

    /// PETREL_GET_COMPRESSION_DICTIONARY (9001): ext `dictionaryId`; the body is the dictionary,
    /// ext `topic` the topic it was trained for; QUERY_NOT_FOUND when unknown.
    func compressionDictionary(_ request: RemotingCommand) throws(RequestFailure) -> RemotingCommand {
        let text = try RequestFields(command: request).nonEmptyString("dictionaryId")
        guard let id = UInt32(text) else {
            throw RequestFailure(.systemError, "the field dictionaryId must be an unsigned 32-bit integer, got \(text)")
        }
        guard let dictionary = compression.dictionary(id) else {
            throw RequestFailure(.queryNotFound, "compression dictionary \(id) is not known to this broker")
        }
        return request.response(extFields: ["topic": dictionary.topic], body: ByteBuffer(bytes: dictionary.bytes))
    }

    /// `current` changed by RocketMQ 5's attribute syntax (`+key=value` sets, `-key` removes, items
    /// separated by ','). Unknown `compression.*` keys and bad compression values are refused, and so
    /// is zstd on a broker without a compressor (SYSTEM_ERROR naming the attribute).
    func alteredAttributes(_ text: String, _ current: [String: String]) throws(RequestFailure) -> [String: String] {
        var attributes = current
        for rawItem in text.split(separator: ",") {
            let item = String(rawItem).trimmingSpaces()
            if item.isEmpty { continue }
            let body = String(item.dropFirst())
            if item.hasPrefix("+"), let equals = body.firstIndex(of: "="), equals != body.startIndex {
                attributes[String(body[..<equals])] = String(body[body.index(after: equals)...])
            } else if item.hasPrefix("-"), !body.isEmpty, !body.contains("=") {
                attributes[body] = nil
            } else {
                throw RequestFailure(.systemError, "attribute '\(item)' is not +key=value or -key")
            }
        }
        for key in attributes.keys where key.hasPrefix("compression.") && !TopicCompressionSettings.Key.all.contains(key) {
            throw RequestFailure(.systemError, "unknown topic attribute \(key); known: \(TopicCompressionSettings.Key.all.joined(separator: ", "))")
        }
        let settings: TopicCompressionSettings
        do { settings = try TopicCompressionSettings(attributes: attributes, defaults: compression.configuration.defaults) } catch {
            throw RequestFailure(.systemError, error.message)
        }
        if settings.isEnabled, compression.compressor == nil {
            throw RequestFailure(.systemError, """
                topic attribute \(TopicCompressionSettings.Key.type)=\(settings.codec.rawValue) needs a compressor: \
                the broker has no compressorPlugin configured
                """)
        }
        return attributes
    }
}
