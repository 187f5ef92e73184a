import CPetrel

/// A compression dictionary digested once by the plugin that prepared it (ABI 1.1's
/// `prepare_dictionary`), or, for a plugin without prepared dictionaries, the raw bytes the host
/// passes on every call. Either way callers use it alike; `CompressorPlugin.supportsPreparedDictionaries`
/// tells which.
///
/// Many threads may compress and decompress with one instance at once (the ABI allows concurrent use
/// of a handle). The plugin's handle is released when the last reference goes, after every call
/// using it has returned (a call holds a reference for its duration).
public final class PreparedDictionary: @unchecked Sendable {
    // @unchecked: every stored property is set once in init; `handle` is only passed back to the
    // plugin, which the ABI requires to accept it from several threads at once, and released once in deinit.
    /// The dictionary's bytes (kept for the fallback path and for callers that store or send it).
    public let bytes: [UInt8]
    /// The level compression with it uses (0: the plugin's default).
    public let level: Int32
    /// The instance that prepared it; kept alive (with its library) until the handle is released.
    let owner: LoadedPlugin
    /// The plugin's handle; nil for the fallback form (raw bytes on every call).
    let handle: UnsafeMutableRawPointer?
    /// The plugin's `release_dictionary`; nil for the fallback form.
    let release: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void)?

    /// Whether the plugin holds a digested form (false: raw bytes are passed on every call).
    public var isPrepared: Bool { handle != nil }

    /// A dictionary over `owner`, prepared (`handle` and `release` set) or in the fallback form.
    init(
        bytes: [UInt8], level: Int32, owner: LoadedPlugin, handle: UnsafeMutableRawPointer?,
        release: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void)?
    ) {
        self.bytes = bytes
        self.level = level
        self.owner = owner
        self.handle = handle
        self.release = release
    }

    // `owner` is released after this body, so the instance outlives the release call.
    deinit {
        if let handle, let release { release(owner.instance, handle) }
    }
}

extension CompressorPlugin {
    /// `dictionary` digested once for compressing at `level` (0: the plugin's default) and for
    /// decompressing. A plugin without prepared dictionaries (ABI 1.0) gets the fallback form: the
    /// same API, the raw bytes passed on every call.
    public func prepareDictionary(_ dictionary: [UInt8], level: Int32 = 0) throws(PluginError) -> PreparedDictionary {
        guard let prepare = table.prepare_dictionary, let release = table.release_dictionary else {
            return PreparedDictionary(bytes: dictionary, level: level, owner: plugin, handle: nil, release: nil)
        }
        var handle: UnsafeMutableRawPointer?
        try plugin.call("prepare_dictionary") { error in
            dictionary.withUnsafeBufferPointer { bytes in
                prepare(plugin.instance, bytes.baseAddress, bytes.count, level, &handle, error)
            }
        }
        guard let handle else {
            throw PluginError(.invalidResult, plugin: name, "prepare_dictionary succeeded without setting a handle")
        }
        return PreparedDictionary(bytes: dictionary, level: level, owner: plugin, handle: handle, release: release)
    }

    /// A dictionary of at most `capacity` bytes trained from `samples` (typical messages). Refused
    /// when the plugin does not train (ABI 1.0), and when it reports 0 bytes or more than `capacity`.
    public func trainDictionary(samples: [[UInt8]], capacity: Int) throws(PluginError) -> [UInt8] {
        guard let train = table.train_dictionary else {
            throw PluginError(
                .unsupported, plugin: name,
                "does not train dictionaries (train_dictionary is absent; built for plugin ABI 1.\(abiMinor), training needs 1.1)")
        }
        guard capacity > 0 else { throw PluginError(.invalidResult, plugin: name, "a dictionary capacity of \(capacity) bytes") }
        let lengths = samples.map(\.count)
        var joined: [UInt8] = []
        joined.reserveCapacity(lengths.reduce(0, +))
        for sample in samples { joined.append(contentsOf: sample) }
        var dictionary = [UInt8](repeating: 0, count: capacity)
        var written = 0
        try plugin.call("train_dictionary") { error in
            joined.withUnsafeBufferPointer { samplePointer in
                lengths.withUnsafeBufferPointer { lengthPointer in
                    dictionary.withUnsafeMutableBufferPointer { output in
                        train(
                            plugin.instance, samplePointer.baseAddress, lengthPointer.baseAddress, lengths.count, output.baseAddress, capacity,
                            &written, error)
                    }
                }
            }
        }
        guard written > 0, written <= capacity else {
            throw PluginError(
                .invalidResult, plugin: name, "train_dictionary reported \(written) bytes written into a \(capacity)-byte buffer")
        }
        dictionary.removeSubrange(written...)
        return dictionary
    }

    /// Which way `transform` runs.
    enum Direction: String {
        /// Compression.
        case compress
        /// Decompression.
        case decompress
    }

    /// Runs one compress or decompress call from `source` into `destination` with `use`'s dictionary;
    /// returns the size the plugin reports, refused when past the destination.
    func transform(
        _ direction: Direction, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, _ use: DictionaryUse
    ) throws(PluginError) -> Int {
        var written = 0
        let sourceBytes = source.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let destinationBytes = destination.baseAddress?.assumingMemoryBound(to: UInt8.self)
        switch use {
        case .prepared(let dictionary) where dictionary.handle != nil:
            guard dictionary.owner === plugin else { throw foreignDictionary() }
            let function = direction == .compress ? table.compress_prepared! : table.decompress_prepared!
            let label = direction == .compress ? "compress_prepared" : "decompress_prepared"
            try withExtendedLifetime(dictionary) { () throws(PluginError) in
                try plugin.call(label) { error in
                    function(plugin.instance, dictionary.handle, sourceBytes, source.count, destinationBytes, destination.count, &written, error)
                }
            }
        case .prepared(let dictionary):
            guard dictionary.owner === plugin else { throw foreignDictionary() }
            written = try optionsCall(direction, sourceBytes, source.count, destination, level: dictionary.level, dictionary: dictionary.bytes)
        case .raw(let dictionary, let level):
            written = try optionsCall(direction, sourceBytes, source.count, destination, level: level, dictionary: dictionary)
        case .none(let level):
            written = try optionsCall(direction, sourceBytes, source.count, destination, level: level, dictionary: nil)
        }
        guard written <= destination.count else {
            throw PluginError(
                .invalidResult, plugin: name, "\(direction.rawValue) reported \(written) bytes written into a \(destination.count)-byte buffer")
        }
        return written
    }

    /// An ABI 1.0 compress/decompress call with `petrel_compression_options`.
    private func optionsCall(
        _ direction: Direction, _ source: UnsafePointer<UInt8>?, _ sourceCount: Int, _ destination: UnsafeMutableRawBufferPointer,
        level: Int32, dictionary: [UInt8]?
    ) throws(PluginError) -> Int {
        var written = 0
        let function = direction == .compress ? table.compress! : table.decompress!
        let destinationBytes = destination.baseAddress?.assumingMemoryBound(to: UInt8.self)
        try plugin.call(direction.rawValue) { error in
            func run(_ dictionaryBytes: UnsafePointer<UInt8>?, _ dictionaryCount: Int) -> Int32 {
                var options = petrel_compression_options(
                    level: direction == .compress ? level : 0, dictionary: dictionaryBytes, dictionary_length: dictionaryCount)
                return function(plugin.instance, &options, source, sourceCount, destinationBytes, destination.count, &written, error)
            }
            guard let dictionary else { return run(nil, 0) }
            return dictionary.withUnsafeBufferPointer { run($0.baseAddress, $0.count) }
        }
        return written
    }

    /// The error for a dictionary prepared by another instance (its handle means nothing here).
    private func foreignDictionary() -> PluginError {
        PluginError(.invalidReference, plugin: name, "the prepared dictionary belongs to another instance of \(plugin.name)")
    }
}
