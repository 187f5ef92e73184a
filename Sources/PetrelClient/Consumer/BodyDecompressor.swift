import NIOConcurrencyHelpers
import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelRemoting

/// A consumer's compressor plugin (issue 6): with one configured, the consumer's pulls carry
/// `acceptCompression=zstd`, the broker returns zstd records as stored (enveloped, compressed), and
/// the consumer decompresses them before the application sees them. Without one the broker serves
/// plain bodies, as it does for the official clients.
public struct ConsumerCompression: Sendable {
    /// The plugin: `.named("compress-zstd")` from `host`'s directory or `.path(...)`.
    public var plugin: PluginReference
    /// The plugin's configuration string.
    public var config: String
    /// Loads the plugin (its directory resolves `.named` references).
    public var host: PluginHost

    /// A compressor plugin setting.
    public init(_ plugin: PluginReference, config: String = "", host: PluginHost = PluginHost()) {
        self.plugin = plugin
        self.config = config
        self.host = host
    }
}

/// Counters of a consumer's decompression, for monitoring and for tests that prove bodies
/// travelled compressed.
public struct DecompressionStatistics: Hashable, Sendable {
    /// Records that arrived compressed and were decompressed.
    public var decompressedMessages = 0
    /// Their bytes as they arrived (envelope and frame).
    public var compressedBytes = 0
    /// Their bytes after decompression.
    public var plainBytes = 0
    /// Dictionaries fetched with PETREL_GET_COMPRESSION_DICTIONARY (9001).
    public var dictionaryFetches = 0
    /// Records that could not be decompressed (never handed to the application as they are).
    public var failures = 0
}

/// Turns zstd records of a pull into plain messages with the consumer's compressor plugin.
///
/// Dictionaries are fetched from the broker that served the pull, prepared once by the plugin
/// (`CompressorPlugin.prepareDictionary`, so they are not re-digested per message) and cached per
/// (broker address, dictionary id): ids are unique per broker, not across brokers.
///
/// Failures: a dictionary fetch that cannot reach the broker throws (the whole pull fails and is
/// retried from the same offset, so nothing is skipped). A record that can never be decompressed
/// (damaged envelope or frame, a dictionary the broker does not know, no compressor configured) is
/// returned with `undecodableReason` set and its compressed body: push consumers treat it as a
/// consumption failure without calling the listener (retry topic, then dead-letter topic), pull
/// consumers throw `.pluginFailed` naming the queue and offset.
final class BodyDecompressor: Sendable {
    /// A cached dictionary's key.
    struct DictionaryKey: Hashable {
        /// The broker that served the pull.
        var address: String
        /// The id in the envelope.
        var id: UInt32
    }

    /// Fetches a dictionary: the bytes, nil when the broker does not know it (with its remark).
    typealias Fetch = @Sendable (_ address: String, _ id: UInt32) async throws(ClientError) -> Result<[UInt8], DictionaryUnavailable>

    /// Why a dictionary cannot be had (permanent: the broker answered).
    struct DictionaryUnavailable: Error {
        /// The broker's answer.
        var reason: String
    }

    /// The loaded plugin.
    let plugin: CompressorPlugin
    /// Dictionaries by key: one load each, shared by every pull that needs it while it runs (so
    /// queues pulled at once fetch a new dictionary once); a failed load is dropped so a later
    /// record asks again.
    private let dictionaries = NIOLockedValueBox<[DictionaryKey: Task<Result<PreparedDictionary, DecodingFailure>, Never>]>([:])
    /// The counters.
    private let counters = NIOLockedValueBox(DecompressionStatistics())
    /// How dictionaries are fetched.
    private let fetch: Fetch

    /// A decompressor over `plugin`, fetching dictionaries with `fetch`.
    init(plugin: CompressorPlugin, fetch: @escaping Fetch) {
        self.plugin = plugin
        self.fetch = fetch
    }

    /// Loads `settings`' plugin; a plugin that cannot be loaded is `.pluginFailed` with its reason.
    static func load(_ settings: ConsumerCompression?, client: ClientInstance, timeout: Duration) throws(ClientError) -> BodyDecompressor? {
        guard let settings else { return nil }
        let plugin: CompressorPlugin
        do {
            plugin = try settings.host.compressor(settings.plugin, config: settings.config)
        } catch {
            throw ClientError(error)
        }
        return BodyDecompressor(plugin: plugin) { address, id throws(ClientError) in
            try await Self.fetchDictionary(client: client, address: address, id: id, timeout: timeout)
        }
    }

    /// PETREL_GET_COMPRESSION_DICTIONARY (9001) to `address`.
    static func fetchDictionary(
        client: ClientInstance, address: String, id: UInt32, timeout: Duration
    ) async throws(ClientError) -> Result<[UInt8], DictionaryUnavailable> {
        let request = RemotingCommand.request(code: .petrelGetCompressionDictionary, extFields: ["dictionaryId": String(id)])
        let response = try await client.invoke(address: address, request: request, timeout: timeout)
        guard response.responseCode == .success, let body = response.body, body.readableBytes > 0 else {
            let name = response.responseCode.name ?? String(response.code)
            return .failure(DictionaryUnavailable(reason: "broker \(address) answered \(name) for dictionary \(id): \(response.remark ?? "")"))
        }
        return .success(Array(body.readableBytesView))
    }

    /// The counters so far.
    var statistics: DecompressionStatistics { counters.withLockedValue { $0 } }

    /// `messages` with every zstd body decompressed (sysFlag compression cleared); records that
    /// cannot be decompressed keep their body and get `undecodableReason`.
    func decompress(_ messages: [ReceivedMessage], address: String) async throws(ClientError) -> [ReceivedMessage] {
        var output = messages
        for index in output.indices where output[index].stored.sysFlag.compression == .zstd {
            do throws(DecodingFailure) {
                try await decompress(&output[index], address: address)
            } catch {
                if case .transient(let clientError) = error { throw clientError }
                output[index].undecodableReason = error.reason
                counters.withLockedValue { $0.failures += 1 }
            }
        }
        return output
    }

    /// Why one record cannot be decompressed, or a transient failure to pass on.
    enum DecodingFailure: Error {
        /// Permanent: the record cannot be decompressed.
        case undecodable(String)
        /// The dictionary fetch failed; try the pull again.
        case transient(ClientError)

        /// The text for `undecodableReason`.
        var reason: String {
            switch self {
            case .undecodable(let reason): reason
            case .transient(let error): error.description
            }
        }
    }

    /// Decompresses one record in place.
    private func decompress(_ message: inout ReceivedMessage, address: String) async throws(DecodingFailure) {
        let raw = Array(message.stored.message.body.readableBytesView)
        let envelope: CompressedBodyEnvelope
        do {
            envelope = try CompressedBodyEnvelope(parsing: raw)
        } catch {
            throw .undecodable("zstd body at \(message.messageQueue) offset \(message.queueOffset): \(error)")
        }
        let frame = Array(raw[envelope.headerLength...])
        let plain: [UInt8]
        do {
            if envelope.dictionaryId == 0 {
                plain = try plugin.decompress(frame, originalSize: envelope.originalLength)
            } else {
                let dictionary = try await dictionary(envelope.dictionaryId, address: address)
                plain = try plugin.decompress(frame, originalSize: envelope.originalLength, dictionary: dictionary)
            }
        } catch let failure as DecodingFailure {
            throw failure
        } catch {
            throw .undecodable("zstd body at \(message.messageQueue) offset \(message.queueOffset): \(error)")
        }
        message.stored.message.body = ByteBuffer(bytes: plain)
        message.stored.sysFlag.compression = nil
        counters.withLockedValue {
            $0.decompressedMessages += 1
            $0.compressedBytes += raw.count
            $0.plainBytes += plain.count
        }
    }

    /// The dictionary `id` of the broker at `address`: cached, else fetched, prepared and cached.
    private func dictionary(_ id: UInt32, address: String) async throws(DecodingFailure) -> PreparedDictionary {
        let key = DictionaryKey(address: address, id: id)
        let load = dictionaries.withLockedValue { table in
            if let running = table[key] { return running }
            let started = Task { await self.load(key) }
            table[key] = started
            return started
        }
        let result = await load.value
        if case .failure = result {
            dictionaries.withLockedValue { table in if table[key] == load { table[key] = nil } }
        }
        return try result.get()
    }

    /// Fetches and prepares one dictionary.
    private func load(_ key: DictionaryKey) async -> Result<PreparedDictionary, DecodingFailure> {
        let fetched: Result<[UInt8], DictionaryUnavailable>
        do {
            fetched = try await fetch(key.address, key.id)
        } catch {
            return .failure(.transient(error))
        }
        counters.withLockedValue { $0.dictionaryFetches += 1 }
        switch fetched {
        case .success(let bytes):
            do {
                return .success(try plugin.prepareDictionary(bytes))
            } catch {
                return .failure(.undecodable("dictionary \(key.id) from \(key.address) cannot be prepared: \(error)"))
            }
        case .failure(let unavailable):
            return .failure(.undecodable(unavailable.reason))
        }
    }
}

extension PullResponseDecoder {
    /// Decodes a pull response from the broker at `address`, then decompresses its zstd records with
    /// `decompressor`: the one place pulled records become messages, for push and pull consumers.
    /// Without a decompressor a zstd record (which a broker only sends to clients that accept
    /// compression) is marked undecodable rather than handed over as compressed bytes.
    static func decode(
        _ response: RemotingCommand, queue: MessageQueue, subscription: SubscriptionData?, decompressor: BodyDecompressor?, address: String
    ) async throws(ClientError) -> PullResult {
        var result = try decode(response, queue: queue, subscription: subscription)
        guard result.messages.contains(where: { $0.stored.sysFlag.compression == .zstd }) else { return result }
        guard let decompressor else {
            for index in result.messages.indices where result.messages[index].stored.sysFlag.compression == .zstd {
                result.messages[index].undecodableReason =
                    "zstd body at \(queue) offset \(result.messages[index].queueOffset) but no compressor plugin is configured"
            }
            return result
        }
        result.messages = try await decompressor.decompress(result.messages, address: address)
        return result
    }
}
