import Logging
import NIOCore
import PetrelCore
import PetrelPluginHost
import PetrelStore
import Synchronization

/// Per-topic zstd compression of message bodies, done by the broker before `store.put` (outside the
/// commit-log lock; the store keeps bodies opaque) and undone for clients that cannot decompress.
///
/// A compressed body is `CompressedBodyEnvelope` + zstd frame with sysFlag compression type zstd.
/// Per topic with `compression.dictionary=true` the broker samples bodies on the write path, trains
/// a dictionary off the hot path, persists it (`CompressionDictionaryFile`) and only then compresses
/// new bodies with it. Retrain rule: once `dictionaryRetrainMessages` bodies were compressed with a
/// topic's current dictionary, the topic is sampled again and a replacement trained; older
/// dictionaries stay on disk (messages may still reference them).
public final class StoreBodyCompression: Sendable {
    /// The loaded compressor, nil when `compressorPlugin` is not configured.
    public let compressor: CompressorPlugin?
    /// The settings (defaults, sample count, dictionary size, retrain rule).
    public let configuration: CompressionConfiguration
    /// The store root (`config/dictionaries/`, the marker); nil keeps everything in memory (tests of
    /// a broker without compression).
    let storeRoot: String?
    /// Dictionaries, samplers and the next id.
    let state: Mutex<DictionaryState>
    /// Body bytes received and stored per topic since start.
    let counters = Mutex<[String: TopicBodyBytes]>([:])
    /// Whether the compressed-store marker is on disk (the lock-free check of the write path).
    let markerWritten: Atomic<Bool>
    /// Serialises the one write of the marker.
    let markerLock = Mutex<Void>(())
    /// Where failures are reported.
    let logger: Logger

    /// What the dictionary bookkeeping holds.
    struct DictionaryState: Sendable {
        /// Every known dictionary by id.
        var dictionaries: [UInt32: CompressionDictionary]
        /// The dictionary each topic compresses with now.
        var current: [String: UInt32]
        /// The id the next trained dictionary gets.
        var nextId: UInt32
        /// Sampling and retrain progress per topic.
        var samplers: [String: Sampler] = [:]
    }

    /// One topic's sampling progress.
    struct Sampler: Sendable {
        /// Copies (prefixes) of bodies gathered for training.
        var samples: [[UInt8]] = []
        /// Their total size.
        var sampledBytes = 0
        /// True while a training task runs for the topic.
        var training = false
        /// Bodies compressed with the topic's current dictionary (drives retraining).
        var compressedWithCurrent: Int64 = 0
    }

    /// Loads the dictionaries under `storeRoot` and checks the marker: a store that ever held
    /// compressed bodies refuses to open without a compressor.
    public init(configuration: CompressionConfiguration, compressor: CompressorPlugin?, storeRoot: String?, logger: Logger) throws(BrokerError) {
        self.configuration = configuration
        self.compressor = compressor
        self.storeRoot = storeRoot
        self.logger = logger
        var dictionaries: [UInt32: CompressionDictionary] = [:]
        var marked = false
        if let storeRoot {
            let codecs = try CompressedStoreMarker.read(storeRoot: storeRoot)
            if let codec = codecs.first, compressor == nil {
                throw BrokerError(.invalidConfigurationValue, """
                    the store holds \(codec)-compressed message bodies (marker \(CompressedStoreMarker.path(storeRoot: storeRoot))) \
                    but no compressor is configured: set compressorPlugin (e.g. compressorPlugin=compress-zstd with pluginDirectory)
                    """)
            }
            marked = !codecs.isEmpty
            dictionaries = try CompressionDictionaryFile.loadAll(storeRoot: storeRoot)
        }
        if configuration.defaults.isEnabled, compressor == nil {
            throw BrokerError(.invalidConfigurationValue,
                "compressionType=\(configuration.defaults.codec.rawValue) needs a compressor: set compressorPlugin (e.g. compress-zstd)")
        }
        var current: [String: UInt32] = [:]
        for dictionary in dictionaries.values where dictionary.id > current[dictionary.topic] ?? 0 {
            current[dictionary.topic] = dictionary.id
        }
        state = Mutex(DictionaryState(dictionaries: dictionaries, current: current, nextId: (dictionaries.keys.max() ?? 0) + 1))
        markerWritten = Atomic(marked)
    }

    /// Loads the configured compressor plugin (if any) and opens the compression state; a plugin
    /// that cannot be loaded is an error naming `compressorPlugin`.
    public static func open(_ configuration: CompressionConfiguration, storeRoot: String?, logger: Logger) throws(BrokerError) -> StoreBodyCompression {
        var compressor: CompressorPlugin?
        if let reference = configuration.compressorPlugin {
            let host = PluginHost(configuration: PluginHostConfiguration(
                pluginDirectory: configuration.pluginDirectory, logger: Logger(label: "petrel.plugin")))
            do { compressor = try host.compressor(reference, config: configuration.compressorPluginConfig) } catch {
                throw BrokerError(.invalidConfigurationValue, "compressorPlugin='\(reference)' cannot be loaded: \(error)")
            }
        }
        return try StoreBodyCompression(configuration: configuration, compressor: compressor, storeRoot: storeRoot, logger: logger)
    }

    /// The dictionary `id`, nil when unknown.
    public func dictionary(_ id: UInt32) -> CompressionDictionary? {
        state.withLock { $0.dictionaries[id] }
    }

    /// The dictionary `topic` compresses with now, nil when it has none yet.
    public func currentDictionary(topic: String) -> CompressionDictionary? {
        state.withLock { state in state.current[topic].flatMap { state.dictionaries[$0] } }
    }

    /// Body bytes received and stored for `topic` since start.
    public func bodyBytes(topic: String) -> TopicBodyBytes {
        counters.withLock { $0[topic] ?? TopicBodyBytes() }
    }

    /// Adds one body to `topic`'s counters.
    func count(topic: String, received: Int, stored: Int) {
        counters.withLock { table in
            table[topic, default: TopicBodyBytes()].received += Int64(received)
            table[topic, default: TopicBodyBytes()].stored += Int64(stored)
        }
    }
}

/// Body bytes a topic received from producers and what the store holds for them (after compression).
public struct TopicBodyBytes: Hashable, Sendable {
    /// Bytes of bodies as sent.
    public var received: Int64 = 0
    /// Bytes of bodies as stored.
    public var stored: Int64 = 0

    /// Zero counters.
    public init() {}
}

/// `<storeRoot>/config/compressedStore`: the codecs whose bodies the store may hold, one per line,
/// written (fsync, rename, fsync of the directory) before the first compressed body is appended.
enum CompressedStoreMarker {
    /// The marker's path.
    static func path(storeRoot: String) -> String { storeRoot + "/config/compressedStore" }

    /// The codecs recorded, empty when there is no marker.
    static func read(storeRoot: String) throws(BrokerError) -> [String] {
        let path = path(storeRoot: storeRoot)
        let bytes: [UInt8]?
        do { bytes = try AtomicFile.read(path) } catch { throw BrokerError(.metadataFailure, "cannot read \(path): \(error)") }
        guard let bytes else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
    }

    /// Records `codec`.
    static func write(codec: String, storeRoot: String) throws(BrokerError) {
        let path = path(storeRoot: storeRoot)
        do {
            try System.makeDirectories(storeRoot + "/config")
            try AtomicFile.write(Array("\(codec)\n".utf8), to: path)
        } catch {
            throw BrokerError(.metadataFailure, "cannot write \(path): \(error)")
        }
    }
}
