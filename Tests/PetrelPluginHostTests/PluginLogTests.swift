import Logging
import PetrelPluginHost
import Synchronization
import Testing

/// A log handler keeping every record, for checking what plugins log through the host table.
struct RecordingLogHandler: LogHandler {
    /// One record: level, text and the plugin metadata.
    struct Record: Sendable, Equatable {
        /// The level.
        var level: Logger.Level
        /// The text.
        var message: String
        /// The `plugin` metadata value.
        var plugin: String?
    }

    /// Where records go (shared by copies of the handler).
    let records: RecordBox
    /// Required by LogHandler.
    var metadata: Logger.Metadata = [:]
    /// Everything is recorded.
    var logLevel: Logger.Level = .trace

    /// Required by LogHandler.
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Records the line.
    func log(event: LogEvent) {
        records.append(Record(level: event.level, message: "\(event.message)", plugin: event.metadata?["plugin"].map { "\($0)" }))
    }
}

/// The records, thread-safe.
final class RecordBox: Sendable {
    /// The records so far.
    private let storage = Mutex<[RecordingLogHandler.Record]>([])

    /// Adds one.
    func append(_ record: RecordingLogHandler.Record) { storage.withLock { $0.append(record) } }

    /// A copy of all.
    var all: [RecordingLogHandler.Record] { storage.withLock { $0 } }
}

/// Plugins log through the host table into the host's logger, tagged with their name.
@Suite struct PluginLogTests {
    /// The init-failure fixture logs a warning before failing; the allocator logs at debug when ready.
    @Test func pluginLogLinesReachTheHostLogger() throws {
        let records = RecordBox()
        let logger = Logger(label: "test.plugins") { _ in RecordingLogHandler(records: records) }
        let host = PluginHost(configuration: PluginHostConfiguration(pluginDirectory: try PluginBuild.directory(), logger: logger))
        #expect(throws: PluginError.self) { try host.selector(.named("broken-init-failure")) }
        _ = try host.allocator(.named("allocate-consistent-hash"))
        #expect(records.all == [
            .init(level: .warning, message: "refusing to start", plugin: "broken-init-failure"),
            .init(level: .debug, message: "consistent-hash ring ready", plugin: "allocate-consistent-hash"),
        ])
    }
}
