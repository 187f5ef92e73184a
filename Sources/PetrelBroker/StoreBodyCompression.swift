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
    /// Body bytes received and stored per topic (persisted; see `persistCounters`).
    let counters: Mutex<[String: TopicBodyBytes]>
    /// Per topic, how often a pull left out a record whose body cannot be decompressed (since start).
    let undecodableCounts = Mutex<[String: Int64]>([:])
    /// Per topic: the minute the last undecodable skip was logged, and skips not logged since.
    let undecodableLogState = Mutex<[String: (minute: Int64, quiet: Int64)]>([:])
    /// Whether the compressed-store marker is on disk (the lock-free check of the write path).
    let markerWritten: Atomic<Bool>
    /// Serialises the one write of the marker.
    let markerLock = Mutex<Void>(())
    /// Serialises writes of the retired-offsets file; each writer takes its snapshot inside it, so
    /// an older snapshot never lands after a newer one and no two writers share the temporary file.
    let retiredFileLock = Mutex<Void>(())
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
        /// Dictionaries digested by the plugin for compressing, by id and level.
        var compressing: [PreparedKey: PreparedDictionary] = [:]
        /// Dictionaries digested by the plugin for decompressing, by id.
        var decompressing: [UInt32: PreparedDictionary] = [:]
        /// Superseded dictionaries on their way to deletion (absent: in use).
        var retirement: [UInt32: DictionaryRetirement] = [:]
        /// The dictionaries the latest retirement pass deleted, kept until the next pass so that a
        /// copy of a record read before the delete and re-stored after it brings its dictionary back.
        var deletedByLastPass: [UInt32: CompressionDictionary] = [:]

        /// The retired dictionaries' offsets, as persisted.
        var retiredOffsets: [UInt32: Int64] {
            retirement.compactMapValues { if case .retired(let after) = $0 { return after } else { return nil } }
        }
    }

    /// A prepared compression dictionary's identity: the plugin digests it for one level.
    struct PreparedKey: Hashable, Sendable {
        /// The dictionary.
        var id: UInt32
        /// The level.
        var level: Int32
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
        var retirement: [UInt32: DictionaryRetirement] = [:]
        var savedCounters: [String: TopicBodyBytes] = [:]
        var marked = false
        var highestIssued: UInt32 = 0
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
            highestIssued = try CompressionDictionaryFile.readHighestId(storeRoot: storeRoot)
            savedCounters = try Self.loadCounters(storeRoot: storeRoot)
            for (id, after) in try Self.readRetired(storeRoot: storeRoot) where dictionaries[id] != nil {
                retirement[id] = .retired(after: after)
            }
        }
        if configuration.defaults.isEnabled, compressor == nil {
            throw BrokerError(.invalidConfigurationValue,
                "compressionType=\(configuration.defaults.codec.rawValue) needs a compressor: set compressorPlugin (e.g. compress-zstd)")
        }
        var current: [String: UInt32] = [:]
        for dictionary in dictionaries.values where dictionary.id > current[dictionary.topic] ?? 0 {
            current[dictionary.topic] = dictionary.id
        }
        // The next id follows the highest ever issued (`highest-id`, written before each dictionary
        // file), or the highest file for stores from before that record existed.
        state = Mutex(DictionaryState(
            dictionaries: dictionaries, current: current, nextId: max(dictionaries.keys.max() ?? 0, highestIssued) + 1,
            retirement: retirement))
        markerWritten = Atomic(marked)
        counters = Mutex(savedCounters)
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

    /// Dictionary `dictionary` digested for compressing at `level`, prepared once and cached.
    func preparedForCompression(_ dictionary: CompressionDictionary, level: Int32, _ compressor: CompressorPlugin) throws(PluginError) -> PreparedDictionary {
        let key = PreparedKey(id: dictionary.id, level: level)
        if let cached = state.withLock({ $0.compressing[key] }) { return cached }
        // Prepared outside the lock; two threads racing here both prepare, one result is kept.
        let prepared = try compressor.prepareDictionary(dictionary.bytes, level: level)
        return state.withLock { state in
            if let cached = state.compressing[key] { return cached }
            state.compressing[key] = prepared
            return prepared
        }
    }

    /// Dictionary `id` digested for decompressing, prepared once and cached; nil when unknown.
    func preparedForDecompression(_ id: UInt32, _ compressor: CompressorPlugin) throws(PluginError) -> PreparedDictionary? {
        let (cached, known) = state.withLock { ($0.decompressing[id], $0.dictionaries[id]) }
        if let cached { return cached }
        guard let known else { return nil }
        let prepared = try compressor.prepareDictionary(known.bytes)
        state.withLock { $0.decompressing[id] = prepared }
        return prepared
    }

    /// The dictionary `topic` compresses with now, nil when it has none yet.
    public func currentDictionary(topic: String) -> CompressionDictionary? {
        state.withLock { state in state.current[topic].flatMap { state.dictionaries[$0] } }
    }

    /// Body bytes received and stored for `topic` (kept across restarts).
    public func bodyBytes(topic: String) -> TopicBodyBytes {
        counters.withLock { $0[topic] ?? TopicBodyBytes() }
    }

    /// Adds one body to `topic`'s counters.
    func count(topic: String, received: Int, stored: Int) {
        // One lookup of the topic per message: this runs for every stored message.
        counters.withLock { table in table[topic, default: TopicBodyBytes()].add(received: received, stored: stored) }
    }
}

/// Body bytes a topic received from producers and what the store holds for them (after compression).
public struct TopicBodyBytes: Hashable, Sendable {
    /// Bytes of bodies as sent.
    public var received: Int64 = 0
    /// Bytes of bodies as stored.
    public var stored: Int64 = 0

    /// Counters with these values (zero by default).
    public init(received: Int64 = 0, stored: Int64 = 0) {
        self.received = received
        self.stored = stored
    }

    /// Adds one message's body sizes.
    mutating func add(received: Int, stored: Int) {
        self.received += Int64(received)
        self.stored += Int64(stored)
    }
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
            // `config` may be new: its entry must be durable too, or a crash could lose the marker.
            try System.syncDirectory(storeRoot)
            try AtomicFile.write(Array("\(codec)\n".utf8), to: path)
        } catch {
            throw BrokerError(.metadataFailure, "cannot write \(path): \(error)")
        }
    }
}
