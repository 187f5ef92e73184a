import CPetrel

/// The argument of an ordered send as a selector plugin sees it, with Java's `hashCode()` of it.
public struct PluginSelectorArgument: Sendable, Hashable {
    /// The value.
    public enum Value: Sendable, Hashable {
        /// An integer, e.g. an order id.
        case integer(Int64)
        /// A string.
        case string(String)
    }

    /// The value.
    public var value: Value
    /// Java's `hashCode()` of the value (what the built-in hash selector uses).
    public var javaHashCode: Int32

    /// An argument.
    public init(_ value: Value, javaHashCode: Int32) {
        self.value = value
        self.javaHashCode = javaHashCode
    }
}

/// A loaded selector plugin: picks a queue index for a message and an argument, every answer checked.
public final class SelectorPlugin: Sendable {
    /// The instance.
    private let plugin: LoadedPlugin
    /// Its `select`.
    private let select: @convention(c) (
        UnsafeMutableRawPointer?, UnsafePointer<petrel_plugin_message>?, UnsafePointer<petrel_selector_argument>?, UInt32,
        UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<petrel_plugin_error>?
    ) -> Int32

    /// The plugin's name.
    public var name: String { plugin.name }

    /// Wraps a checked selector instance.
    init(_ plugin: LoadedPlugin) throws(PluginError) {
        let table = try ABIReader.table(
            plugin.descriptor.functions, zero: petrel_selector_functions(), minimumSize: ABIReader.selectorMinimumSize, name: plugin.name)
        self.plugin = plugin
        self.select = table.select!
    }

    /// The index (0..<`queueCount`) of the queue for the message; an out-of-range answer or a failed
    /// call is an error naming the plugin.
    public func selectQueue(
        topic: String, tags: String?, keys: [String], body: [UInt8], argument: PluginSelectorArgument, queueCount: Int
    ) throws(PluginError) -> Int {
        guard queueCount > 0, let count = UInt32(exactly: queueCount) else {
            throw PluginError(.invalidResult, plugin: name, "asked to select among \(queueCount) queues")
        }
        let strings = CStringArray([topic, tags ?? "", argumentText(argument)])
        let keyStrings = CStringArray(keys)
        var index: UInt32 = 0
        try plugin.call("select") { error in
            keyStrings.pointers.withUnsafeBufferPointer { keyPointers in
                body.withUnsafeBufferPointer { bodyBytes in
                    var message = petrel_plugin_message(
                        topic: strings.pointers[0], tags: tags == nil ? nil : strings.pointers[1],
                        keys: keyPointers.baseAddress, key_count: UInt32(keys.count),
                        body: bodyBytes.baseAddress, body_length: bodyBytes.count)
                    var cArgument = petrel_selector_argument()
                    cArgument.java_hash_code = argument.javaHashCode
                    switch argument.value {
                    case .integer(let value):
                        cArgument.type = Int32(PETREL_SELECTOR_ARGUMENT_INTEGER.rawValue)
                        cArgument.integer = value
                    case .string:
                        cArgument.type = Int32(PETREL_SELECTOR_ARGUMENT_STRING.rawValue)
                        cArgument.string = strings.pointers[2]
                    }
                    return select(plugin.instance, &message, &cArgument, count, &index, error)
                }
            }
        }
        guard index < count else {
            throw PluginError(.invalidResult, plugin: name, "select chose queue index \(index), but there are only \(count) queues (0...\(count - 1))")
        }
        return Int(index)
    }

    /// The string argument's text, "" for integers.
    private func argumentText(_ argument: PluginSelectorArgument) -> String {
        if case .string(let text) = argument.value { return text }
        return ""
    }
}
