import PetrelCore
import PetrelPluginHost

/// A strategy backed by a loaded C plugin. Every kind is loaded the same three ways (a reference
/// through a host, a path, a name in a directory), so those initialisers are written once here.
public protocol PluginBackedStrategy {
    /// The loaded plugin's type (`SelectorPlugin`, `AllocatorPlugin`).
    associatedtype Plugin
    /// The strategy over an already loaded plugin.
    init(plugin: Plugin)
    /// Loads `reference` through `host` and initialises it with `config`.
    static func load(_ reference: PluginReference, host: PluginHost, config: String) throws(PluginError) -> Plugin
}

extension PluginBackedStrategy {
    /// Loads `reference` (`.path("/x/selector-hash.so")` or `.named("selector-hash")` from `host`'s
    /// plugin directory) and initialises it with `config`.
    public init(_ reference: PluginReference, host: PluginHost = PluginHost(), config: String = "") throws(ClientError) {
        do {
            self.init(plugin: try Self.load(reference, host: host, config: config))
        } catch {
            throw ClientError(error)
        }
    }

    /// Loads the plugin library at `path` (e.g. `build/plugins/selector-hash.so`).
    public init(path: String, config: String = "") throws(ClientError) {
        try self.init(.path(path), config: config)
    }

    /// Loads `<directory>/<name>.so`; `name` may hold only a-z, 0-9 and '-'.
    public init(named name: String, directory: String, config: String = "") throws(ClientError) {
        let host = PluginHost(configuration: PluginHostConfiguration(pluginDirectory: directory))
        try self.init(.named(name), host: host, config: config)
    }
}

/// A C selector plugin (include/petrel_plugin.h) as a `MessageQueueSelector`: the producer cannot
/// tell it from a built-in one. The plugin sees the topic, tags, keys, body and the queue count and
/// answers an index into the topic's publish queues; a failure or an out-of-range index fails the
/// send with `.pluginFailed` naming the plugin.
public struct PluginQueueSelector: MessageQueueSelector, PluginBackedStrategy {
    /// The loaded plugin.
    public let plugin: SelectorPlugin

    /// A selector over an already loaded plugin.
    public init(plugin: SelectorPlugin) {
        self.plugin = plugin
    }

    /// Loads a selector plugin through `host`.
    public static func load(_ reference: PluginReference, host: PluginHost, config: String) throws(PluginError) -> SelectorPlugin {
        try host.selector(reference, config: config)
    }

    /// The queue the plugin picks; nil when it fails (`checkedSelect` says why).
    public func select(from queues: [MessageQueue], message: ProducerMessage, argument: SelectorArgument) -> MessageQueue? {
        try? checkedSelect(from: queues, message: message, argument: argument)
    }

    /// The queue the plugin picks, or `.pluginFailed` with the plugin's name and what it did.
    public func checkedSelect(from queues: [MessageQueue], message: ProducerMessage, argument: SelectorArgument) throws(ClientError) -> MessageQueue {
        let value: PluginSelectorArgument.Value
        switch argument {
        case .integer(let integer): value = .integer(integer)
        case .string(let text): value = .string(text)
        }
        do {
            let index = try plugin.selectQueue(
                topic: message.topic, tags: message.tags, keys: message.keys, body: Array(message.body.readableBytesView),
                argument: PluginSelectorArgument(value, javaHashCode: argument.javaHashCode), queueCount: queues.count)
            return queues[index]
        } catch {
            throw ClientError(error)
        }
    }
}

/// A C allocator plugin as a `QueueAllocationStrategy`, for push and pull consumers. The host asks
/// the plugin for every client's share and refuses answers naming missing queues or overlapping.
public struct PluginAllocationStrategy: QueueAllocationStrategy, PluginBackedStrategy {
    /// The loaded plugin.
    public let plugin: AllocatorPlugin

    /// The plugin's name (`allocate-consistent-hash` …).
    public var name: String { plugin.name }

    /// A strategy over an already loaded plugin.
    public init(plugin: AllocatorPlugin) {
        self.plugin = plugin
    }

    /// Loads an allocator plugin through `host`.
    public static func load(_ reference: PluginReference, host: PluginHost, config: String) throws(PluginError) -> AllocatorPlugin {
        try host.allocator(reference, config: config)
    }

    /// This client's queues; empty when the plugin fails (`checkedAllocate` says why).
    public func allocate(group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]) -> [MessageQueue] {
        (try? checkedAllocate(group: group, currentClientId: currentClientId, allClientIds: allClientIds, allQueues: allQueues)) ?? []
    }

    /// This client's queues, or `.pluginFailed` with the plugin's name and what it did.
    public func checkedAllocate(
        group: String, currentClientId: String, allClientIds: [String], allQueues: [MessageQueue]
    ) throws(ClientError) -> [MessageQueue] {
        do {
            return try plugin.allocate(group: group, currentClientId: currentClientId, allClientIds: allClientIds, queues: allQueues)
                .map { allQueues[$0] }
        } catch {
            throw ClientError(error)
        }
    }
}

extension ClientError {
    /// A plugin host error as `.pluginFailed`, keeping its text (plugin name and what it did).
    init(_ error: PluginError) {
        self.init(.pluginFailed, error.description)
    }
}

extension PluginReference {
    /// `text` as a reference, the way configuration strings name plugins: a path when it contains
    /// '/', else a name looked up as `<plugin directory>/<name>.so`.
    public static func nameOrPath(_ text: String) -> PluginReference {
        text.contains("/") ? .path(text) : .named(text)
    }
}

extension PluginBackedStrategy {
    /// Loads the plugin `nameOrPath` (a path with '/', else a name in `directory`; nil refuses names)
    /// and initialises it with `config`: the form the C API and the bindings use.
    public init(nameOrPath: String, directory: String?, config: String = "") throws(ClientError) {
        let host = PluginHost(configuration: PluginHostConfiguration(pluginDirectory: directory))
        try self.init(.nameOrPath(nameOrPath), host: host, config: config)
    }
}

extension ConsumerCompression {
    /// The compressor plugin `nameOrPath` (a path with '/', else a name in `directory`).
    public init(nameOrPath: String, directory: String?, config: String = "") {
        self.init(.nameOrPath(nameOrPath), config: config, host: PluginHost(configuration: PluginHostConfiguration(pluginDirectory: directory)))
    }

    /// Loads the plugin once to check it, so a bad plugin is refused when the consumer is
    /// configured rather than when it starts; `.pluginFailed` with the plugin's reason.
    public func validate() throws(ClientError) {
        do {
            _ = try host.compressor(plugin, config: config)
        } catch {
            throw ClientError(error)
        }
    }
}
