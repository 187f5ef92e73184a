import ArgumentParser
import Foundation
import Logging
import PetrelStore

#if canImport(Glibc)
import Glibc
#endif

/// The `petrel-bench` executable: one subcommand per workload.
///
/// `store` drives the store in-process; `produce` and `consume` drive a running broker over the
/// network through PetrelClient. All share the helpers in this file (logging, scratch directories,
/// output options) and the report in `BenchReport.swift`.
@main
struct PetrelBench: AsyncParsableCommand {
    /// The command's name, summary and subcommands.
    static let configuration = CommandConfiguration(
        commandName: "petrel-bench",
        abstract: "Load generators for Petrel.",
        subcommands: [StoreCommand.self, ProduceCommand.self, ConsumeCommand.self, PayloadCommand.self]
    )
}

/// Options every workload shares: how results are printed.
struct OutputOptions: ParsableArguments {
    /// Print one JSON object line instead of the human-readable block and the RESULT line.
    @Flag(help: "Print exactly one JSON object line instead of the human-readable block and the RESULT line.")
    var json = false
}

/// The process-wide logger.
enum BenchLogging {
    /// swift-log's stream handler on standard error at warning level. A static `let` is
    /// initialised once, lazily and thread-safely, which is exactly what `bootstrap` requires
    /// (it may run only once per process).
    static let logger: Logger = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            // Info lines from the store (open, close) would interleave with the report.
            handler.logLevel = .warning
            return handler
        }
        return Logger(label: "petrel-bench")
    }()
}

/// A directory a workload writes into: either one the user named (kept afterwards) or a fresh
/// temporary one (removed afterwards, so repeated runs do not fill the disk).
struct ScratchDirectory: Sendable {
    /// The directory's path.
    let path: String
    /// Whether this run created it and must remove it.
    let isOwned: Bool

    /// Uses `requested` (creating it when missing), or creates a fresh directory under `$TMPDIR`.
    init(requested: String?) throws {
        if let requested {
            try System.makeDirectories(requested)
            path = requested
            isOwned = false
            return
        }
        let parent = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((parent + "/petrel-bench-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw BenchFailure("cannot create a temporary directory under \(parent): \(System.describe(errno: errno))")
        }
        // Drop the terminating NUL that mkdtemp left in place.
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        isOwned = true
    }

    /// Removes the directory and everything in it when this run created it.
    func removeIfOwned() {
        guard isOwned else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            BenchLogging.logger.warning("could not remove the scratch directory \(path): \(error)")
        }
    }
}

/// A failure that ends a run with a message on standard error and exit code 1.
struct BenchFailure: Error, CustomStringConvertible {
    /// What went wrong, for people.
    let description: String

    /// Creates a failure with its message.
    init(_ description: String) { self.description = description }
}

/// Process-level measurements that every report carries.
enum ProcessMeasurements {
    /// User plus system CPU seconds this process has used so far (all threads: writers, the
    /// store's flush and dispatch threads alike, since the store runs in-process).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// The one-minute load average, so runs taken while the shared machine was busy stand out.
    static func loadAverage() -> Double {
        var averages = [Double](repeating: 0, count: 3)
        guard getloadavg(&averages, 3) > 0 else { return 0 }
        return averages[0]
    }
}

/// Prints to standard error (diagnostics must not mix with the report on standard output).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
