/// The error every PetrelPluginHost operation throws: a stable `code`, the plugin it concerns (its
/// descriptor name when known, else the library path) and what happened, for people.
public struct PluginError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, switchable error kinds.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// A plugin name is not `[a-z0-9-]+`, or no plugin directory is configured for a by-name load,
        /// or a prepared dictionary is used with a plugin instance other than the one that made it.
        case invalidReference
        /// `dlopen` refused the library (missing file, not a shared object, unresolved symbol).
        case loadFailed
        /// The library exports no `petrel_plugin_describe_v1`.
        case missingEntry
        /// The library holds no plugin of the requested name or kind.
        case noSuchPlugin
        /// The descriptor's ABI major differs from the host's, or a struct is smaller than ABI 1.0's.
        case incompatibleVersion
        /// A required field or function pointer is NULL.
        case missingFunction
        /// The plugin's `init` failed.
        case initFailed
        /// A plugin function returned a failure status.
        case callFailed
        /// A plugin function answered something impossible (an index out of range, overlapping
        /// allocations, a wrong decompressed size); the answer is refused.
        case invalidResult
        /// The plugin does not offer the function asked for (an ABI 1.0 plugin asked to train a
        /// dictionary); the message names the function and the plugin's ABI minor.
        case unsupported
    }

    /// What went wrong, stably.
    public var code: Code
    /// The plugin's name, or the library's path before a descriptor was read.
    public var plugin: String
    /// What the plugin did, or why it was refused.
    public var message: String

    /// An error about `plugin`.
    public init(_ code: Code, plugin: String, _ message: String) {
        self.code = code
        self.plugin = plugin
        self.message = message
    }

    /// `plugin <name>: <message> (<code>)`.
    public var description: String { "plugin \(plugin): \(message) (\(code.rawValue))" }
}
