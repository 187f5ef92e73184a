import CPetrel
import PetrelCore

/// A loaded allocator plugin: a client's share of a group's queues, checked for range and overlap.
public final class AllocatorPlugin: Sendable {
    /// The instance.
    private let plugin: LoadedPlugin
    /// Its `allocate`.
    private let allocateFunction: @convention(c) (
        UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<UnsafePointer<CChar>?>?, UInt32,
        UnsafePointer<petrel_plugin_queue>?, UInt32, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UInt32>?,
        UnsafeMutablePointer<petrel_plugin_error>?
    ) -> Int32

    /// The plugin's name.
    public var name: String { plugin.name }

    /// Wraps a checked allocator instance.
    init(_ plugin: LoadedPlugin) throws(PluginError) {
        let table = try ABIReader.table(
            plugin.descriptor.functions, zero: petrel_allocator_functions(), minimumSize: ABIReader.allocatorMinimumSize, name: plugin.name)
        self.plugin = plugin
        self.allocateFunction = table.allocate!
    }

    /// The indexes into `queues` that `currentClientId` consumes, ascending.
    ///
    /// Because every client runs the same deterministic plugin, the host asks it for EVERY client's
    /// share and refuses the answer when any share names a queue that does not exist, names one twice,
    /// or overlaps another client's share (two clients would consume one queue).
    public func allocate(
        group: String, currentClientId: String, allClientIds: [String], queues: [MessageQueue]
    ) throws(PluginError) -> [Int] {
        let clients = allClientIds.contains(currentClientId) ? allClientIds : [currentClientId]
        var owners: [Int: String] = [:]
        var mine: [Int] = []
        for client in clients {
            let share = try share(of: client, group: group, allClientIds: allClientIds, queues: queues)
            for index in share {
                if let other = owners[index] {
                    let what = other == client ? "twice to \(client)" : "to both \(other) and \(client)"
                    throw PluginError(.invalidResult, plugin: name, "allocate gave queue \(index) (\(queues[index])) \(what)")
                }
                owners[index] = client
            }
            if client == currentClientId { mine = share.sorted() }
        }
        return mine
    }

    /// One call of the plugin for `client`, with the indexes checked against the queue count.
    private func share(of client: String, group: String, allClientIds: [String], queues: [MessageQueue]) throws(PluginError) -> [Int] {
        let clientStrings = CStringArray(allClientIds)
        let fixed = CStringArray([group, client])
        let queueStrings = CStringArray(queues.flatMap { [$0.topic, $0.brokerName] })
        let cQueues = queues.enumerated().map { index, queue in
            petrel_plugin_queue(topic: queueStrings.pointers[2 * index], broker_name: queueStrings.pointers[2 * index + 1], queue_id: queue.queueId)
        }
        // One spare slot so a zero-queue call still gets a valid pointer.
        var assigned = [UInt32](repeating: 0, count: queues.count + 1)
        var assignedCount: UInt32 = 0
        try plugin.call("allocate") { error in
            clientStrings.pointers.withUnsafeBufferPointer { clientPointers in
                cQueues.withUnsafeBufferPointer { queuePointers in
                    assigned.withUnsafeMutableBufferPointer { output in
                        allocateFunction(
                            plugin.instance, fixed.pointers[0], fixed.pointers[1], clientPointers.baseAddress, UInt32(allClientIds.count),
                            queuePointers.baseAddress, UInt32(queues.count), output.baseAddress, &assignedCount, error)
                    }
                }
            }
        }
        guard assignedCount <= queues.count else {
            throw PluginError(.invalidResult, plugin: name, "allocate reported \(assignedCount) queues for \(client), but only \(queues.count) exist")
        }
        let share = assigned[0..<Int(assignedCount)].map { Int($0) }
        if let bad = share.first(where: { $0 >= queues.count }) {
            throw PluginError(
                .invalidResult, plugin: name, "allocate gave \(client) queue index \(bad), but there are only \(queues.count) queues")
        }
        return share
    }

    /// `topic@broker#id`.
}
