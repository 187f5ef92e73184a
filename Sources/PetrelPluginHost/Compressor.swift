/// Compresses and decompresses byte strings. Built-in and plugin compressors conform alike, so
/// callers (the broker's store compression, the client) do not know which one they hold.
public protocol Compressor: Sendable {
    /// A short name for logs and configuration (`compress-zstd` …).
    var name: String { get }

    /// `bytes` compressed.
    func compress(_ bytes: [UInt8]) throws(PluginError) -> [UInt8]

    /// `bytes` decompressed; the result must be exactly `originalSize` bytes, else an error.
    func decompress(_ bytes: [UInt8], originalSize: Int) throws(PluginError) -> [UInt8]

    /// `source` compressed and appended to `output` (the hot path: no intermediate arrays); returns
    /// the number of bytes appended. On failure `output` is left as it was.
    func compress(_ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws(PluginError) -> Int

    /// `source` decompressed and appended to `output`; exactly `originalSize` bytes, else an error
    /// and `output` left as it was.
    func decompress(_ source: UnsafeRawBufferPointer, originalSize: Int, appendingTo output: inout [UInt8]) throws(PluginError)
}

extension Compressor {
    /// Through the array form, for compressors without a cheaper path.
    public func compress(_ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws(PluginError) -> Int {
        let compressed = try compress([UInt8](source))
        output.append(contentsOf: compressed)
        return compressed.count
    }

    /// Through the array form, for compressors without a cheaper path.
    public func decompress(_ source: UnsafeRawBufferPointer, originalSize: Int, appendingTo output: inout [UInt8]) throws(PluginError) {
        output.append(contentsOf: try decompress([UInt8](source), originalSize: originalSize))
    }
}

/// A compressor plugin with a fixed level and optional dictionary: the `Compressor` adapter. With a
/// `PreparedDictionary` the dictionary is digested once (ABI 1.1 plugins) instead of per call.
public struct PluginCompressor: Compressor {
    /// The loaded plugin.
    public let plugin: CompressorPlugin
    /// The level passed to every compress call; 0 for the plugin's default. Unused with a prepared
    /// dictionary, which carries its own level.
    public var level: Int32
    /// The raw dictionary both directions use, nil for none; unused when `preparedDictionary` is set.
    public var dictionary: [UInt8]?
    /// A dictionary prepared by `plugin`; when set it is used for both directions.
    public var preparedDictionary: PreparedDictionary?

    /// The plugin's name.
    public var name: String { plugin.name }

    /// An adapter over `plugin` with a raw (per-call) dictionary or none.
    public init(plugin: CompressorPlugin, level: Int32 = 0, dictionary: [UInt8]? = nil) {
        self.plugin = plugin
        self.level = level
        self.dictionary = dictionary
    }

    /// An adapter over `plugin` with a dictionary it prepared (`plugin.prepareDictionary`).
    public init(plugin: CompressorPlugin, preparedDictionary: PreparedDictionary) {
        self.init(plugin: plugin, level: preparedDictionary.level)
        self.preparedDictionary = preparedDictionary
    }

    /// `bytes` compressed with the prepared dictionary, or at `level` with `dictionary`.
    public func compress(_ bytes: [UInt8]) throws(PluginError) -> [UInt8] {
        if let preparedDictionary { return try plugin.compress(bytes, dictionary: preparedDictionary) }
        return try plugin.compress(bytes, level: level, dictionary: dictionary)
    }

    /// `bytes` decompressed with the prepared or raw dictionary, checked to be `originalSize` long.
    public func decompress(_ bytes: [UInt8], originalSize: Int) throws(PluginError) -> [UInt8] {
        if let preparedDictionary { return try plugin.decompress(bytes, originalSize: originalSize, dictionary: preparedDictionary) }
        return try plugin.decompress(bytes, originalSize: originalSize, dictionary: dictionary)
    }

    /// `source` compressed straight into `output`'s tail.
    public func compress(_ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws(PluginError) -> Int {
        if let preparedDictionary { return try plugin.compress(source, appendingTo: &output, dictionary: preparedDictionary) }
        if let dictionary {
            // A raw dictionary is the slow path anyway (digested per call); the array form suffices.
            let compressed = try plugin.compress([UInt8](source), level: level, dictionary: dictionary)
            output.append(contentsOf: compressed)
            return compressed.count
        }
        return try plugin.compress(source, appendingTo: &output, level: level)
    }

    /// `source` decompressed straight into `output`'s tail.
    public func decompress(_ source: UnsafeRawBufferPointer, originalSize: Int, appendingTo output: inout [UInt8]) throws(PluginError) {
        if let preparedDictionary {
            return try plugin.decompress(source, originalSize: originalSize, appendingTo: &output, dictionary: preparedDictionary)
        }
        if let dictionary {
            output.append(contentsOf: try plugin.decompress([UInt8](source), originalSize: originalSize, dictionary: dictionary))
            return
        }
        try plugin.decompress(source, originalSize: originalSize, appendingTo: &output)
    }
}
