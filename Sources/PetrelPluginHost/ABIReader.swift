import CPetrel

/// Reads the plugin ABI's size-prefixed structs safely: a field is read only when the plugin's
/// `size` covers it (fields appended in later minors count as zero/NULL), and every struct must be
/// at least as large as ABI 1.0's.
enum ABIReader {
    /// The smallest `petrel_plugin_descriptor` of ABI 1.0: up to the end of `functions`.
    static let descriptorMinimumSize = MemoryLayout<petrel_plugin_descriptor>.offset(of: \.functions)! + MemoryLayout<UnsafeRawPointer?>.size
    /// The smallest `petrel_selector_functions` of ABI 1.0.
    static let selectorMinimumSize = MemoryLayout<petrel_selector_functions>.offset(of: \.select)! + MemoryLayout<UnsafeRawPointer?>.size
    /// The smallest `petrel_allocator_functions` of ABI 1.0.
    static let allocatorMinimumSize = MemoryLayout<petrel_allocator_functions>.offset(of: \.allocate)! + MemoryLayout<UnsafeRawPointer?>.size
    /// The smallest `petrel_compressor_functions` of ABI 1.0.
    static let compressorMinimumSize = MemoryLayout<petrel_compressor_functions>.offset(of: \.decompress)! + MemoryLayout<UnsafeRawPointer?>.size

    /// A copy of the struct at `pointer` whose first field is its `uint32_t size`: the plugin's
    /// bytes up to the smaller of its size and ours, the rest zero. Nil when smaller than `minimumSize`.
    static func read<Table>(_ pointer: UnsafeRawPointer, zero: Table, minimumSize: Int) -> Table? {
        let declared = Int(pointer.load(as: UInt32.self))
        guard declared >= minimumSize else { return nil }
        var table = zero
        withUnsafeMutableBytes(of: &table) { bytes in
            bytes.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(declared, bytes.count)))
        }
        return table
    }

    /// The descriptor at `raw`, with its size, ABI major, kind and name checked.
    static func descriptor(_ raw: UnsafePointer<petrel_plugin_descriptor>, path: String) throws(PluginError) -> petrel_plugin_descriptor {
        guard let descriptor = read(UnsafeRawPointer(raw), zero: petrel_plugin_descriptor(), minimumSize: descriptorMinimumSize) else {
            let size = UnsafeRawPointer(raw).load(as: UInt32.self)
            throw PluginError(.incompatibleVersion, plugin: path, "its descriptor is \(size) bytes, smaller than ABI 1.0's \(descriptorMinimumSize)")
        }
        let name = descriptor.name.map { String(cString: $0) }
        guard descriptor.abi_major == PETREL_PLUGIN_ABI_MAJOR else {
            throw PluginError(
                .incompatibleVersion, plugin: name ?? path,
                "built for plugin ABI \(descriptor.abi_major).\(descriptor.abi_minor); this host speaks \(PETREL_PLUGIN_ABI_MAJOR).x")
        }
        guard name != nil else { throw PluginError(.missingFunction, plugin: path, "its descriptor's name is NULL") }
        return descriptor
    }

    /// Checks `init`, `destroy`, `functions` and the kind's table: present, large enough, no NULL entries.
    static func checkFunctions(_ descriptor: petrel_plugin_descriptor, name: String) throws(PluginError) {
        guard descriptor.`init` != nil else { throw PluginError(.missingFunction, plugin: name, "init is NULL") }
        guard descriptor.destroy != nil else { throw PluginError(.missingFunction, plugin: name, "destroy is NULL") }
        guard let functions = descriptor.functions else { throw PluginError(.missingFunction, plugin: name, "functions is NULL") }
        switch descriptor.kind {
        case Int32(PETREL_PLUGIN_KIND_SELECTOR.rawValue):
            let table = try table(functions, zero: petrel_selector_functions(), minimumSize: selectorMinimumSize, name: name)
            if table.select == nil { throw PluginError(.missingFunction, plugin: name, "select is NULL") }
        case Int32(PETREL_PLUGIN_KIND_ALLOCATOR.rawValue):
            let table = try table(functions, zero: petrel_allocator_functions(), minimumSize: allocatorMinimumSize, name: name)
            if table.allocate == nil { throw PluginError(.missingFunction, plugin: name, "allocate is NULL") }
        case Int32(PETREL_PLUGIN_KIND_COMPRESSOR.rawValue):
            let table = try table(functions, zero: petrel_compressor_functions(), minimumSize: compressorMinimumSize, name: name)
            if table.compress_bound == nil { throw PluginError(.missingFunction, plugin: name, "compress_bound is NULL") }
            if table.compress == nil { throw PluginError(.missingFunction, plugin: name, "compress is NULL") }
            if table.decompress == nil { throw PluginError(.missingFunction, plugin: name, "decompress is NULL") }
            try checkPreparedDictionaryGroup(table, name: name)
        default:
            throw PluginError(.incompatibleVersion, plugin: name, "unknown plugin kind \(descriptor.kind)")
        }
    }

    /// ABI 1.1's prepared-dictionary functions come as a group: all four set, or all four NULL (or
    /// beyond the plugin's table). A partial set would leave the host holding handles it cannot use or free.
    static func checkPreparedDictionaryGroup(_ table: petrel_compressor_functions, name: String) throws(PluginError) {
        let present: [(String, Bool)] = [
            ("prepare_dictionary", table.prepare_dictionary != nil), ("release_dictionary", table.release_dictionary != nil),
            ("compress_prepared", table.compress_prepared != nil), ("decompress_prepared", table.decompress_prepared != nil),
        ]
        let missing = present.filter { !$0.1 }.map(\.0)
        guard missing.isEmpty || missing.count == present.count else {
            throw PluginError(
                .missingFunction, plugin: name,
                "prepared dictionaries need all four functions; \(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") NULL")
        }
    }

    /// The function table at `pointer`, or an error naming the plugin when it is too small.
    static func table<Table>(_ pointer: UnsafeRawPointer, zero: Table, minimumSize: Int, name: String) throws(PluginError) -> Table {
        guard let table = read(pointer, zero: zero, minimumSize: minimumSize) else {
            let size = pointer.load(as: UInt32.self)
            throw PluginError(.incompatibleVersion, plugin: name, "its function table is \(size) bytes, smaller than ABI 1.0's \(minimumSize)")
        }
        return table
    }

    /// `selector`, `allocator`, `compressor` or `kind N`.
    static func kindName(_ kind: Int32) -> String {
        switch kind {
        case Int32(PETREL_PLUGIN_KIND_SELECTOR.rawValue): return "selector"
        case Int32(PETREL_PLUGIN_KIND_ALLOCATOR.rawValue): return "allocator"
        case Int32(PETREL_PLUGIN_KIND_COMPRESSOR.rawValue): return "compressor"
        default: return "kind \(kind)"
        }
    }
}
