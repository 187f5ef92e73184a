import CPetrel
import PetrelClient
import PetrelCore

/// What `petrel_selector_plugin *` points to: a loaded selector plugin (include/petrel_plugin.h).
final class SelectorPluginBox: Handle, @unchecked Sendable {
    /// "selector_plugin".
    override class var kind: String { "selector_plugin" }

    /// The plugin as the producer's selector.
    let selector: PluginQueueSelector

    /// A handle over `selector`.
    init(selector: PluginQueueSelector) {
        self.selector = selector
    }
}

/// The plugin fields shared by both consumers' options.
enum PluginOptions {
    /// The compressor setting of `plugin` (NULL or "": none), checked by loading it once.
    static func compression(
        _ plugin: UnsafePointer<CChar>?, config: UnsafePointer<CChar>?, directory: UnsafePointer<CChar>?
    ) throws(CallFailure) -> ConsumerCompression? {
        guard let nameOrPath = try Arguments.optionalString(plugin, "options->compressor_plugin"), !nameOrPath.isEmpty else { return nil }
        let pluginDirectory = try Arguments.optionalString(directory, "options->plugin_directory")
        let configuration = try Arguments.optionalString(config, "options->compressor_plugin_config") ?? ""
        let settings = ConsumerCompression(nameOrPath: nameOrPath, directory: pluginDirectory, config: configuration)
        do throws(ClientError) {
            try settings.validate()
        } catch {
            throw CallFailure(error)
        }
        return settings
    }

    /// The allocation plugin `plugin` (NULL or "": none), loaded now.
    static func allocation(
        _ plugin: UnsafePointer<CChar>?, config: UnsafePointer<CChar>?, directory: UnsafePointer<CChar>?
    ) throws(CallFailure) -> PluginAllocationStrategy? {
        guard let nameOrPath = try Arguments.optionalString(plugin, "options->allocation_plugin"), !nameOrPath.isEmpty else { return nil }
        let pluginDirectory = try Arguments.optionalString(directory, "options->plugin_directory")
        let configuration = try Arguments.optionalString(config, "options->allocation_plugin_config") ?? ""
        do throws(ClientError) {
            return try PluginAllocationStrategy(nameOrPath: nameOrPath, directory: pluginDirectory, config: configuration)
        } catch {
            throw CallFailure(error)
        }
    }
}

/// `petrel_selector_plugin_load`.
@_cdecl("petrel_selector_plugin_load")
public func petrel_selector_plugin_load(
    _ plugin: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?, _ directory: UnsafePointer<CChar>?,
    _ outPlugin: UnsafeMutablePointer<OpaquePointer?>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let out = try Arguments.required(outPlugin, "out_plugin")
        let nameOrPath = try Arguments.string(plugin, "plugin")
        let configuration = try Arguments.optionalString(config, "config") ?? ""
        let pluginDirectory = try Arguments.optionalString(directory, "plugin_directory")
        let selector: PluginQueueSelector
        do throws(ClientError) {
            selector = try PluginQueueSelector(nameOrPath: nameOrPath, directory: pluginDirectory, config: configuration)
        } catch {
            throw CallFailure(error)
        }
        out.pointee = SelectorPluginBox(selector: selector).retainedPointer()
    }
}

/// `petrel_selector_plugin_destroy`: the plugin stays loaded while a send still uses it.
@_cdecl("petrel_selector_plugin_destroy")
public func petrel_selector_plugin_destroy(_ plugin: OpaquePointer?) {
    guard let plugin else { return }
    guard Handle.resolve(plugin, as: SelectorPluginBox.self) != nil, Handle.release(plugin) else {
        CallBoundary.note("petrel_selector_plugin_destroy: not a live petrel_selector_plugin")
        return
    }
}

/// `petrel_producer_send_plugin_selected`: a string argument when `string_argument` is not NULL,
/// else `integer_argument`.
@_cdecl("petrel_producer_send_plugin_selected")
public func petrel_producer_send_plugin_selected(
    _ producer: OpaquePointer?, _ message: OpaquePointer?, _ plugin: OpaquePointer?, _ integerArgument: Int64,
    _ stringArgument: UnsafePointer<CChar>?, _ outResult: UnsafeMutablePointer<petrel_send_result>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let box = try Handle.require(producer, as: ProducerBox.self, argument: "producer")
        let messageBox = try Handle.require(message, as: MessageBox.self, argument: "message")
        let selector = try Handle.require(plugin, as: SelectorPluginBox.self, argument: "selector").selector
        let out = try Arguments.required(outResult, "out_result")
        let argument: SelectorArgument = try Arguments.optionalString(stringArgument, "string_argument").map { .string($0) }
            ?? .integer(integerArgument)
        let (running, _) = try box.running()
        let outgoing = messageBox.producerMessage
        let result = try BlockingCall<SendResult>.wait { _ async throws(CallFailure) in
            do throws(ClientError) {
                return try await running.send(outgoing, selector: selector, argument: argument)
            } catch {
                throw CallFailure(error)
            }
        }
        messageBox.setMessageId(result.messageId)
        out.pointee = SendResults.make(result)
    }
}
