import CPetrel

/// Compresses and decompresses byte strings. Built-in and plugin compressors conform alike, so
/// callers (the store's compression, next) do not know which one they hold.
public protocol Compressor: Sendable {
    /// A short name for logs and configuration (`compress-zstd` …).
    var name: String { get }

    /// `bytes` compressed.
    func compress(_ bytes: [UInt8]) throws(PluginError) -> [UInt8]

    /// `bytes` decompressed; the result must be exactly `originalSize` bytes, else an error.
    func decompress(_ bytes: [UInt8], originalSize: Int) throws(PluginError) -> [UInt8]
}

/// A compressor plugin with a fixed level and optional dictionary: the `Compressor` adapter.
public struct PluginCompressor: Compressor {
    /// The loaded plugin.
    public let plugin: CompressorPlugin
    /// The level passed to every compress call; 0 for the plugin's default.
    public var level: Int32
    /// The dictionary both directions use, nil for none.
    public var dictionary: [UInt8]?

    /// The plugin's name.
    public var name: String { plugin.name }

    /// An adapter over `plugin`.
    public init(plugin: CompressorPlugin, level: Int32 = 0, dictionary: [UInt8]? = nil) {
        self.plugin = plugin
        self.level = level
        self.dictionary = dictionary
    }

    /// `bytes` compressed at `level` with `dictionary`.
    public func compress(_ bytes: [UInt8]) throws(PluginError) -> [UInt8] {
        try plugin.compress(bytes, level: level, dictionary: dictionary)
    }

    /// `bytes` decompressed with `dictionary`, checked to be `originalSize` long.
    public func decompress(_ bytes: [UInt8], originalSize: Int) throws(PluginError) -> [UInt8] {
        try plugin.decompress(bytes, originalSize: originalSize, dictionary: dictionary)
    }
}

/// A loaded compressor plugin: compression into host-owned buffers, sizes checked.
public final class CompressorPlugin: Sendable {
    /// The instance.
    private let plugin: LoadedPlugin
    /// Its function table (all three entries checked non-NULL at load).
    private let table: petrel_compressor_functions

    /// The plugin's name.
    public var name: String { plugin.name }

    /// Wraps a checked compressor instance.
    init(_ plugin: LoadedPlugin) throws(PluginError) {
        self.table = try ABIReader.table(
            plugin.descriptor.functions, zero: petrel_compressor_functions(), minimumSize: ABIReader.compressorMinimumSize, name: plugin.name)
        self.plugin = plugin
    }

    /// `bytes` compressed into a buffer of the plugin's bound; a written size past the buffer is refused.
    public func compress(_ bytes: [UInt8], level: Int32 = 0, dictionary: [UInt8]? = nil) throws(PluginError) -> [UInt8] {
        let capacity = table.compress_bound!(plugin.instance, bytes.count)
        // Real codecs' bounds are the input plus a small overhead; a wildly larger answer is a bug
        // that would otherwise make the host allocate whatever the plugin says.
        guard capacity > 0, capacity <= 2 * bytes.count + 65_536 else {
            throw PluginError(.invalidResult, plugin: name, "compress_bound(\(bytes.count)) answered \(capacity)")
        }
        var output = [UInt8](repeating: 0, count: capacity)
        let written = try run("compress", table.compress!, input: bytes, output: &output, level: level, dictionary: dictionary)
        guard written <= capacity else {
            throw PluginError(.invalidResult, plugin: name, "compress reported \(written) bytes written into a \(capacity)-byte buffer")
        }
        output.removeSubrange(written...)
        return output
    }

    /// `bytes` decompressed into exactly `originalSize` bytes; any other reported size is refused.
    public func decompress(_ bytes: [UInt8], originalSize: Int, dictionary: [UInt8]? = nil) throws(PluginError) -> [UInt8] {
        guard originalSize >= 0 else { throw PluginError(.invalidResult, plugin: name, "original size \(originalSize) is negative") }
        var output = [UInt8](repeating: 0, count: originalSize)
        let written = try run("decompress", table.decompress!, input: bytes, output: &output, level: 0, dictionary: dictionary)
        guard written == originalSize else {
            throw PluginError(.invalidResult, plugin: name, "decompress produced \(written) bytes; the original was \(originalSize)")
        }
        return output
    }

    /// The C signature shared by compress and decompress.
    typealias Transform = @convention(c) (
        UnsafeMutableRawPointer?, UnsafePointer<petrel_compression_options>?, UnsafePointer<UInt8>?, Int,
        UnsafeMutablePointer<UInt8>?, Int, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<petrel_plugin_error>?
    ) -> Int32

    /// Calls `function` from `input` into `output`; returns the size it reports.
    private func run(
        _ label: String, _ function: Transform, input: [UInt8], output: inout [UInt8], level: Int32, dictionary: [UInt8]?
    ) throws(PluginError) -> Int {
        var written = 0
        let dictionaryBytes = dictionary ?? []
        try plugin.call(label) { error in
            dictionaryBytes.withUnsafeBufferPointer { dictionaryPointer in
                input.withUnsafeBufferPointer { source in
                    output.withUnsafeMutableBufferPointer { destination in
                        var options = petrel_compression_options(
                            level: level, dictionary: dictionary == nil ? nil : dictionaryPointer.baseAddress,
                            dictionary_length: dictionaryBytes.count)
                        return function(
                            plugin.instance, &options, source.baseAddress, source.count, destination.baseAddress, destination.count,
                            &written, error)
                    }
                }
            }
        }
        return written
    }
}
