import CPetrel
import Glibc
import Logging

/// One initialised plugin instance: its library (kept open), descriptor, instance pointer and the
/// host table it was given. `destroy` runs when the last wrapper lets go.
final class LoadedPlugin: @unchecked Sendable {
    // @unchecked: every stored property is set once in init; the ABI lets the plugin's functions be
    // called concurrently on one instance, and init/destroy run while no one else holds it.
    /// The plugin's descriptor name.
    let name: String
    /// The checked descriptor.
    let descriptor: petrel_plugin_descriptor
    /// What `init` returned (may be nil for stateless plugins).
    let instance: UnsafeMutableRawPointer?
    /// The library, kept open while the instance lives.
    private let library: PluginLibrary
    /// The host table handed to `init`; must outlive `destroy`.
    private let hostTable: UnsafeMutablePointer<petrel_plugin_host>
    /// The retained log target `hostTable.context` points at.
    private let logTarget: Unmanaged<PluginLogTarget>

    /// Calls the descriptor's `init` with `config`; its failure becomes `.initFailed` with the plugin's message.
    init(library: PluginLibrary, descriptor: petrel_plugin_descriptor, config: String, logger: Logger) throws(PluginError) {
        let name = String(cString: descriptor.name)
        let target = Unmanaged.passRetained(PluginLogTarget(plugin: name, logger: logger))
        let table = UnsafeMutablePointer<petrel_plugin_host>.allocate(capacity: 1)
        table.initialize(to: petrel_plugin_host(
            size: UInt32(MemoryLayout<petrel_plugin_host>.size), abi_major: UInt16(PETREL_PLUGIN_ABI_MAJOR),
            abi_minor: UInt16(PETREL_PLUGIN_ABI_MINOR), context: target.toOpaque(), log: pluginLog))
        var instance: UnsafeMutableRawPointer?
        var error = petrel_plugin_error()
        let status = config.withCString { descriptor.`init`!($0, table, &instance, &error) }
        guard status == PETREL_PLUGIN_OK else {
            table.deallocate()
            target.release()
            throw PluginError(.initFailed, plugin: name, "init failed with status \(status): \(Self.message(of: &error))")
        }
        self.name = name
        self.descriptor = descriptor
        self.instance = instance
        self.library = library
        self.hostTable = table
        self.logTarget = target
    }

    // Stored properties are released after this body, so `library` (and with it dlclose) goes
    // last: the plugin's code stays mapped until destroy has returned.
    deinit {
        descriptor.destroy!(instance)
        hostTable.deallocate()
        logTarget.release()
    }

    /// The plugin's error text, `(code N) message`, safe against a missing terminator.
    static func message(of error: inout petrel_plugin_error) -> String {
        let text = withUnsafeBytes(of: &error.message) { bytes in
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        return "(code \(error.code)) \(text.isEmpty ? "no message" : text)"
    }

    /// Runs a plugin function that reports through a `petrel_plugin_error`; a nonzero status
    /// becomes `.callFailed` naming the function.
    func call(_ function: String, _ body: (UnsafeMutablePointer<petrel_plugin_error>) -> Int32) throws(PluginError) {
        var error = petrel_plugin_error()
        let status = body(&error)
        guard status == PETREL_PLUGIN_OK else {
            throw PluginError(.callFailed, plugin: name, "\(function) failed with status \(status): \(Self.message(of: &error))")
        }
    }
}

/// Where a plugin's `host->log` lines go: the host's logger, tagged with the plugin's name.
final class PluginLogTarget: Sendable {
    /// The plugin's name.
    let plugin: String
    /// The host's logger.
    let logger: Logger

    /// A target.
    init(plugin: String, logger: Logger) {
        self.plugin = plugin
        self.logger = logger
    }
}

/// The host table's `log`: thread-safe because Logger is; unknown levels log as errors.
private let pluginLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { context, level, message in
    guard let context else { return }
    let target = Unmanaged<PluginLogTarget>.fromOpaque(context).takeUnretainedValue()
    let text = message.map { String(cString: $0) } ?? ""
    let logLevel: Logger.Level
    switch level {
    case Int32(PETREL_PLUGIN_LOG_DEBUG.rawValue): logLevel = .debug
    case Int32(PETREL_PLUGIN_LOG_INFO.rawValue): logLevel = .info
    case Int32(PETREL_PLUGIN_LOG_WARNING.rawValue): logLevel = .warning
    default: logLevel = .error
    }
    target.logger.log(level: logLevel, "\(text)", metadata: ["plugin": "\(target.plugin)"])
}

/// NUL-terminated copies of strings for the length of one plugin call, freed by the host that made
/// them (the ABI never lets one side free the other's memory).
final class CStringArray {
    /// The copies, in order.
    let pointers: [UnsafePointer<CChar>?]

    /// Copies `strings`.
    init(_ strings: [String]) {
        pointers = strings.map { UnsafePointer(strdup($0)) }
    }

    deinit {
        for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) }
    }
}
