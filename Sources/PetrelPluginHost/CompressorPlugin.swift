import CPetrel

/// A loaded compressor plugin: compression into host-owned buffers, every result checked (the
/// written size within the buffer, exactly the original size on decompress).
///
/// Three ways to call it, cheapest last: arrays in and out; a raw source appended to a caller's
/// `[UInt8]`; a raw source into a caller's raw buffer (e.g. a NIO ByteBuffer's writable bytes).
/// Dictionaries come raw (`[UInt8]`, digested by the plugin on every call) or prepared once with
/// `prepareDictionary` (ABI 1.1 plugins; older ones fall back to the raw path behind the same API).
public final class CompressorPlugin: Sendable {
    /// The instance.
    let plugin: LoadedPlugin
    /// Its function table: the 1.0 entries checked non-NULL at load, the 1.1 prepared group all
    /// set or all NULL, entries past the plugin's table size NULL.
    let table: petrel_compressor_functions

    /// The plugin's name.
    public var name: String { plugin.name }

    /// The ABI minor the plugin was built against.
    public var abiMinor: Int { Int(plugin.descriptor.abi_minor) }

    /// Whether the plugin digests a dictionary once (ABI 1.1's prepared dictionaries). When false,
    /// `prepareDictionary` still works but every call passes the raw dictionary again.
    public var supportsPreparedDictionaries: Bool { table.prepare_dictionary != nil }

    /// Whether the plugin trains dictionaries (ABI 1.1's `train_dictionary`).
    public var supportsTraining: Bool { table.train_dictionary != nil }

    /// Wraps a checked compressor instance.
    init(_ plugin: LoadedPlugin) throws(PluginError) {
        self.table = try ABIReader.table(
            plugin.descriptor.functions, zero: petrel_compressor_functions(), minimumSize: ABIReader.compressorMinimumSize, name: plugin.name)
        self.plugin = plugin
    }

    /// How one call uses a dictionary.
    enum DictionaryUse {
        /// No dictionary, at this level (0: the plugin's default).
        case none(level: Int32)
        /// Raw bytes passed through `petrel_compression_options`, at this level.
        case raw([UInt8], level: Int32)
        /// A dictionary from `prepareDictionary` (prepared or fallback form).
        case prepared(PreparedDictionary)
    }

    /// The capacity compress needs for `length` bytes, as the plugin answers it. Real codecs' bounds
    /// are the input plus a small overhead; a wildly larger answer is a bug that would otherwise make
    /// the host allocate whatever the plugin says, so it is refused.
    public func compressBound(_ length: Int) throws(PluginError) -> Int {
        let capacity = table.compress_bound!(plugin.instance, length)
        guard capacity > 0, capacity <= 2 * length + 65_536 else {
            throw PluginError(.invalidResult, plugin: name, "compress_bound(\(length)) answered \(capacity)")
        }
        return capacity
    }

    // MARK: Arrays

    /// `bytes` compressed at `level` with a raw `dictionary`.
    public func compress(_ bytes: [UInt8], level: Int32 = 0, dictionary: [UInt8]? = nil) throws(PluginError) -> [UInt8] {
        try compressedArray(bytes, dictionary.map { .raw($0, level: level) } ?? .none(level: level))
    }

    /// `bytes` compressed with a prepared dictionary (at the level it was prepared for).
    public func compress(_ bytes: [UInt8], dictionary: PreparedDictionary) throws(PluginError) -> [UInt8] {
        try compressedArray(bytes, .prepared(dictionary))
    }

    /// `bytes` decompressed with a raw `dictionary` into exactly `originalSize` bytes.
    public func decompress(_ bytes: [UInt8], originalSize: Int, dictionary: [UInt8]? = nil) throws(PluginError) -> [UInt8] {
        try decompressedArray(bytes, originalSize: originalSize, dictionary.map { .raw($0, level: 0) } ?? .none(level: 0))
    }

    /// `bytes` decompressed with a prepared dictionary into exactly `originalSize` bytes.
    public func decompress(_ bytes: [UInt8], originalSize: Int, dictionary: PreparedDictionary) throws(PluginError) -> [UInt8] {
        try decompressedArray(bytes, originalSize: originalSize, .prepared(dictionary))
    }

    /// Array in, array out, through the append path.
    func compressedArray(_ bytes: [UInt8], _ use: DictionaryUse) throws(PluginError) -> [UInt8] {
        var output: [UInt8] = []
        let result: Result<Int, PluginError> = bytes.withUnsafeBytes { source in
            do throws(PluginError) { return .success(try append(compressing: source, to: &output, use)) } catch { return .failure(error) }
        }
        _ = try result.get()
        return output
    }

    /// Array in, array out, through the append path.
    func decompressedArray(_ bytes: [UInt8], originalSize: Int, _ use: DictionaryUse) throws(PluginError) -> [UInt8] {
        var output: [UInt8] = []
        let result: Result<Void, PluginError> = bytes.withUnsafeBytes { source in
            do throws(PluginError) {
                return .success(try append(decompressing: source, originalSize: originalSize, to: &output, use))
            } catch { return .failure(error) }
        }
        try result.get()
        return output
    }

    // MARK: Appending to a caller's array

    /// `source` compressed at `level` (no dictionary) and appended to `output`; returns the bytes appended.
    public func compress(_ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8], level: Int32 = 0) throws(PluginError) -> Int {
        try append(compressing: source, to: &output, .none(level: level))
    }

    /// `source` compressed with a prepared dictionary and appended to `output`; returns the bytes appended.
    public func compress(
        _ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8], dictionary: PreparedDictionary
    ) throws(PluginError) -> Int {
        try append(compressing: source, to: &output, .prepared(dictionary))
    }

    /// `source` decompressed (no dictionary) and appended to `output`: exactly `originalSize` bytes.
    public func decompress(_ source: UnsafeRawBufferPointer, originalSize: Int, appendingTo output: inout [UInt8]) throws(PluginError) {
        try append(decompressing: source, originalSize: originalSize, to: &output, .none(level: 0))
    }

    /// `source` decompressed with a prepared dictionary and appended to `output`: exactly `originalSize` bytes.
    public func decompress(
        _ source: UnsafeRawBufferPointer, originalSize: Int, appendingTo output: inout [UInt8], dictionary: PreparedDictionary
    ) throws(PluginError) {
        try append(decompressing: source, originalSize: originalSize, to: &output, .prepared(dictionary))
    }

    /// Grows `output` by the bound, compresses into the new tail and trims it to what was written;
    /// on failure `output` is restored to its old length.
    func append(compressing source: UnsafeRawBufferPointer, to output: inout [UInt8], _ use: DictionaryUse) throws(PluginError) -> Int {
        let capacity = try compressBound(source.count)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: capacity))
        let result: Result<Int, PluginError> = output.withUnsafeMutableBytes { buffer in
            do throws(PluginError) {
                return .success(try transform(.compress, source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), use))
            } catch { return .failure(error) }
        }
        switch result {
        case .success(let written):
            output.removeLast(capacity - written)
            return written
        case .failure(let error):
            output.removeLast(capacity)
            throw error
        }
    }

    /// Grows `output` by `originalSize`, decompresses into the new tail; restores it on failure.
    func append(
        decompressing source: UnsafeRawBufferPointer, originalSize: Int, to output: inout [UInt8], _ use: DictionaryUse
    ) throws(PluginError) {
        guard originalSize >= 0 else { throw PluginError(.invalidResult, plugin: name, "original size \(originalSize) is negative") }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: originalSize))
        let result: Result<Void, PluginError> = output.withUnsafeMutableBytes { buffer in
            do throws(PluginError) {
                return .success(try decompress(source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), use))
            } catch { return .failure(error) }
        }
        if case .failure(let error) = result {
            output.removeLast(originalSize)
            throw error
        }
    }

    // MARK: Raw buffers

    /// `source` compressed at `level` into `destination`, which should hold `compressBound(source.count)`
    /// bytes (a smaller one may make the plugin fail); returns the bytes written.
    public func compress(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, level: Int32 = 0
    ) throws(PluginError) -> Int {
        try transform(.compress, source, into: destination, .none(level: level))
    }

    /// `source` compressed with a prepared dictionary into `destination` (see the level variant).
    public func compress(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, dictionary: PreparedDictionary
    ) throws(PluginError) -> Int {
        try transform(.compress, source, into: destination, .prepared(dictionary))
    }

    /// `source` decompressed into `destination`, whose size is the original size; any other
    /// reported size is refused.
    public func decompress(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, dictionary: PreparedDictionary? = nil
    ) throws(PluginError) {
        try decompress(source, into: destination, dictionary.map { .prepared($0) } ?? .none(level: 0))
    }

    /// Decompresses and checks the size against `destination.count`.
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, _ use: DictionaryUse) throws(PluginError) {
        let written = try transform(.decompress, source, into: destination, use)
        guard written == destination.count else {
            throw PluginError(.invalidResult, plugin: name, "decompress produced \(written) bytes; the original was \(destination.count)")
        }
    }
}
