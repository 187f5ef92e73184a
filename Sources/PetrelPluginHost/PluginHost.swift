import CPetrel
import Logging

/// Where plugins may be loaded from, and where their log lines go.
public struct PluginHostConfiguration: Sendable {
    /// The directory `PluginReference.named` loads `<name>.so` from; nil allows explicit paths only.
    public var pluginDirectory: String?
    /// Receives the plugins' `host->log` lines, with the plugin's name as metadata.
    public var logger: Logger

    /// A configuration.
    public init(pluginDirectory: String? = nil, logger: Logger = Logger(label: "petrel.plugin")) {
        self.pluginDirectory = pluginDirectory
        self.logger = logger
    }
}

/// Which plugin to load: a library by explicit path (optionally one plugin of several inside it),
/// or a name resolved to `<pluginDirectory>/<name>.so` only, never a search path.
public enum PluginReference: Sendable, Hashable, CustomStringConvertible {
    /// The library at `path`; `plugin` picks a descriptor by name, nil takes the first of the kind.
    case path(String, plugin: String? = nil)
    /// The plugin `name` in the configured plugin directory.
    case named(String)

    /// The path or the name.
    public var description: String {
        switch self {
        case .path(let path, let plugin): return plugin.map { "\(path) (\($0))" } ?? path
        case .named(let name): return name
        }
    }
}

/// Loads C plugins (include/petrel_plugin.h), checks them, and hands out typed wrappers that check
/// every answer. A refused plugin is an error, never a crash; the process keeps running.
public struct PluginHost: Sendable {
    /// Where plugins come from.
    public var configuration: PluginHostConfiguration

    /// A host.
    public init(configuration: PluginHostConfiguration = PluginHostConfiguration()) {
        self.configuration = configuration
    }

    /// A selector plugin, initialised with `config`.
    public func selector(_ reference: PluginReference, config: String = "") throws(PluginError) -> SelectorPlugin {
        try SelectorPlugin(load(reference, kind: PETREL_PLUGIN_KIND_SELECTOR, config: config))
    }

    /// An allocator plugin, initialised with `config`.
    public func allocator(_ reference: PluginReference, config: String = "") throws(PluginError) -> AllocatorPlugin {
        try AllocatorPlugin(load(reference, kind: PETREL_PLUGIN_KIND_ALLOCATOR, config: config))
    }

    /// A compressor plugin, initialised with `config`.
    public func compressor(_ reference: PluginReference, config: String = "") throws(PluginError) -> CompressorPlugin {
        try CompressorPlugin(load(reference, kind: PETREL_PLUGIN_KIND_COMPRESSOR, config: config))
    }

    /// Resolves `reference`, opens the library, checks the descriptor and initialises an instance.
    func load(_ reference: PluginReference, kind: petrel_plugin_kind, config: String) throws(PluginError) -> LoadedPlugin {
        let (path, pluginName) = try resolve(reference)
        let library = try PluginLibrary(path: path)
        let descriptor = try library.descriptor(named: pluginName, kind: kind)
        return try LoadedPlugin(library: library, descriptor: descriptor, config: config, logger: configuration.logger)
    }

    /// The library path and descriptor name `reference` stands for.
    func resolve(_ reference: PluginReference) throws(PluginError) -> (path: String, plugin: String?) {
        switch reference {
        case .path(let path, let plugin):
            // dlopen searches LD_LIBRARY_PATH for a bare file name; a path with a slash is taken as is.
            guard path.contains("/") else {
                throw PluginError(.invalidReference, plugin: path, "an explicit plugin path must contain a '/' (use ./\(path))")
            }
            return (path, plugin)
        case .named(let name):
            let allowed = !name.isEmpty && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "-")
            }
            guard allowed else {
                throw PluginError(.invalidReference, plugin: name, "a plugin name may hold only a-z, 0-9 and '-'")
            }
            guard let directory = configuration.pluginDirectory, !directory.isEmpty else {
                throw PluginError(.invalidReference, plugin: name, "no plugin directory is configured; load it by path")
            }
            return ((directory.hasSuffix("/") ? directory : directory + "/") + name + ".so", name)
        }
    }
}
