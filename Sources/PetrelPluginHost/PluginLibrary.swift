import CPetrel
import Glibc

/// An open plugin library (`dlopen`), closed when the last user lets go.
final class PluginLibrary: @unchecked Sendable {
    // @unchecked: `handle` is written once in init; dlsym/dlclose are thread-safe.
    /// The path it was opened from (what errors name before a descriptor is read).
    let path: String
    /// The `dlopen` handle.
    private let handle: UnsafeMutableRawPointer
    /// The library's `petrel_plugin_describe_v1`.
    private let describe: petrel_plugin_describe_v1_function

    /// Opens `path` with every symbol resolved now (RTLD_NOW), so a library missing a symbol is
    /// refused here rather than crashing at its first call.
    init(path: String) throws(PluginError) {
        self.path = path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PluginError(.loadFailed, plugin: path, "dlopen failed: \(Self.lastError())")
        }
        guard let symbol = dlsym(handle, PETREL_PLUGIN_ENTRY_V1) else {
            dlclose(handle)
            throw PluginError(.missingEntry, plugin: path, "the library exports no \(PETREL_PLUGIN_ENTRY_V1); is it a Petrel plugin for ABI 1?")
        }
        self.handle = handle
        self.describe = unsafeBitCast(symbol, to: petrel_plugin_describe_v1_function.self)
    }

    deinit {
        dlclose(handle)
    }

    /// The descriptor named `name` (or the first of `kind` when nil), checked against ABI 1.0.
    func descriptor(named name: String?, kind: petrel_plugin_kind) throws(PluginError) -> petrel_plugin_descriptor {
        // A library listing more than this many plugins is broken (or never returns NULL).
        let maximumDescriptors: UInt32 = 1024
        var index: UInt32 = 0
        var seen: [String] = []
        while index < maximumDescriptors, let raw = describe(index) {
            index += 1
            let descriptor = try ABIReader.descriptor(raw, path: path)
            let descriptorName = String(cString: descriptor.name)
            seen.append(descriptorName)
            if let name, descriptorName != name { continue }
            if descriptor.kind != Int32(kind.rawValue) {
                if name == nil { continue }
                throw PluginError(
                    .noSuchPlugin, plugin: descriptorName,
                    "is a \(ABIReader.kindName(descriptor.kind)) plugin, not the \(ABIReader.kindName(Int32(kind.rawValue))) asked for")
            }
            try ABIReader.checkFunctions(descriptor, name: descriptorName)
            return descriptor
        }
        let wanted = name ?? "a \(ABIReader.kindName(Int32(kind.rawValue))) plugin"
        let listing = seen.isEmpty ? "no plugins" : seen.joined(separator: ", ")
        throw PluginError(.noSuchPlugin, plugin: name ?? path, "\(path) holds \(listing), not \(wanted)")
    }

    /// `dlerror()`'s text.
    static func lastError() -> String {
        dlerror().map { String(cString: $0) } ?? "unknown error"
    }
}
