import CPetrel
import Foundation
import Logging
import Synchronization

/// Where the library's log records go: the callback `petrel_set_log_handler` registered, or by default
/// standard error. Nothing is ever written to standard output.
///
/// libpetrel.so carries its own copy of swift-log (statically linked, its symbols hidden by
/// exports.map), so bootstrapping that copy's `LoggingSystem` here affects this library's loggers only,
/// never a host program's.
final class LogRouter: @unchecked Sendable {
    /// The one router of the library.
    static let shared = LogRouter()

    /// The registered callback and its user data.
    struct Sink {
        /// The C callback.
        var callback: petrel_log_callback
        /// Handed back to it.
        var userData: UnsafeMutableRawPointer?
    }

    /// The lowest level passed on (a petrel_log_level raw value); warnings by default.
    private let threshold = Atomic<UInt32>(PETREL_LOG_WARNING.rawValue)
    /// Guards `sink` and `callsInProgress`; signalled when a callback call ends.
    private let condition = NSCondition()
    /// The callback; nil: standard error.
    private var sink: Sink?
    /// Callback calls running now, on any thread.
    private var callsInProgress = 0

    /// Marks threads running a log callback, so that a record logged from inside the callback is not
    /// fed back into it, and a handler change from inside it is refused instead of waiting for itself.
    private let insideCallbackKey: pthread_key_t = {
        var key = pthread_key_t()
        _ = pthread_key_create(&key, nil)
        return key
    }()

    /// Installs the router as swift-log's backend once; every exported call runs this first, so no
    /// logger of the library is made before it.
    static let installed: Bool = {
        LoggingSystem.bootstrap { label in RoutedLogHandler(label: label) }
        return true
    }()

    /// The threshold as a petrel_log_level.
    var level: petrel_log_level { petrel_log_level(rawValue: threshold.load(ordering: .relaxed)) }

    /// Sets the lowest level passed on.
    func setLevel(_ level: petrel_log_level) {
        threshold.store(level.rawValue, ordering: .relaxed)
    }

    /// Whether the calling thread is inside a log callback.
    var isInsideCallback: Bool { pthread_getspecific(insideCallbackKey) != nil }

    /// Replaces the callback (nil restores standard error) and returns once no call of the previous
    /// one is running any more.
    func replaceSink(_ newSink: Sink?) {
        condition.lock()
        defer { condition.unlock() }
        sink = newSink
        while callsInProgress > 0 { condition.wait() }
    }

    /// Passes one record on when its level reaches the threshold.
    func emit(level: petrel_log_level, label: String, text: String) {
        guard level.rawValue >= threshold.load(ordering: .relaxed), level.rawValue < PETREL_LOG_OFF.rawValue else { return }
        let nested = isInsideCallback
        condition.lock()
        let current = nested ? nil : sink
        if current != nil { callsInProgress += 1 }
        condition.unlock()
        guard let current else {
            // The default, and records logged from inside a callback (which must not re-enter it).
            Self.writeStandardError(level: level, label: label, text: text)
            return
        }
        pthread_setspecific(insideCallbackKey, UnsafeRawPointer(bitPattern: 1))
        label.withCString { labelPointer in
            text.withCString { textPointer in current.callback(current.userData, level, labelPointer, textPointer) }
        }
        pthread_setspecific(insideCallbackKey, nil)
        condition.lock()
        callsInProgress -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// One line on standard error: "petrel WARNING petrel.client: text". (Not `fputs(stderr)`: the C global
    /// is not concurrency-safe to Swift.)
    static func writeStandardError(level: petrel_log_level, label: String, text: String) {
        let line = "petrel \(name(of: level)) \(label): \(text)\n"
        // One write(2) per record, so lines from several threads do not interleave.
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count) }
    }

    /// The level's upper-case name.
    static func name(of level: petrel_log_level) -> String {
        switch level {
        case PETREL_LOG_TRACE: "TRACE"
        case PETREL_LOG_DEBUG: "DEBUG"
        case PETREL_LOG_INFO: "INFO"
        case PETREL_LOG_NOTICE: "NOTICE"
        case PETREL_LOG_WARNING: "WARNING"
        case PETREL_LOG_ERROR: "ERROR"
        default: "CRITICAL"
        }
    }
}

/// swift-log's handler for every logger of the library: formats a record and hands it to the router.
struct RoutedLogHandler: LogHandler {
    /// The logger's label ("petrel.client" …), passed to the callback.
    let label: String
    /// Metadata set on the logger (client id …).
    var metadata: Logger.Metadata = [:]

    /// The router's threshold; a logger cannot change it on its own (setting is ignored), so one
    /// petrel_set_log_level call governs every logger of the library.
    var logLevel: Logger.Level {
        get { Self.swiftLevel(LogRouter.shared.level) }
        set {}
    }

    /// Reads or writes one metadata entry.
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats "message key=value …" (logger metadata, then the record's) and routes it.
    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var text = event.message.description
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        if let error = event.error { text += " error=\(error)" }
        LogRouter.shared.emit(level: Self.cLevel(event.level), label: label, text: text)
    }

    /// swift-log's level for a C level (OFF: above critical, so nothing passes).
    static func swiftLevel(_ level: petrel_log_level) -> Logger.Level {
        switch level {
        case PETREL_LOG_TRACE: .trace
        case PETREL_LOG_DEBUG: .debug
        case PETREL_LOG_INFO: .info
        case PETREL_LOG_NOTICE: .notice
        case PETREL_LOG_WARNING: .warning
        case PETREL_LOG_ERROR: .error
        default: .critical
        }
    }

    /// The C level of a swift-log level.
    static func cLevel(_ level: Logger.Level) -> petrel_log_level {
        switch level {
        case .trace: PETREL_LOG_TRACE
        case .debug: PETREL_LOG_DEBUG
        case .info: PETREL_LOG_INFO
        case .notice: PETREL_LOG_NOTICE
        case .warning: PETREL_LOG_WARNING
        case .error: PETREL_LOG_ERROR
        case .critical: PETREL_LOG_CRITICAL
        }
    }
}
