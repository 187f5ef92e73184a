import Foundation
import NIOCore
import NIOPosix
import PetrelCore
import PetrelRemoting
import Synchronization

/// A failure of the test harness itself (a broker that does not start, a missing binary).
struct HarnessError: Error, CustomStringConvertible {
    /// What went wrong.
    let description: String

    /// Creates the error.
    init(_ description: String) { self.description = description }
}

/// One `petrel-broker` child process on 127.0.0.1 with a temporary store, stopped by pid.
///
/// The binary is looked up next to the test product (SwiftPM builds every product of the package
/// into one directory before `swift test` runs), or taken from `PETREL_BROKER` when set.
final class BrokerProcess: @unchecked Sendable {
    /// The broker's listen address.
    let address: String
    /// The name-server address clients use (the embedded one, or the one given).
    let nameServer: String
    /// The broker name.
    let brokerName: String
    /// The temporary store directory, removed by `stop()`.
    let storeDirectory: String
    /// The child.
    private let process: Process
    /// Everything the child printed (stdout and stderr).
    private let output: OutputBuffer

    /// Starts a broker; with `nameServer` nil it runs its own embedded name server on a free port.
    /// `extraArguments` are further `--key value` settings. Returns once the broker printed its
    /// "listening" line. A port taken between choosing and binding it (another test's child may
    /// pick the same random one) costs a retry on fresh ports, up to three attempts.
    init(brokerName: String = "broker-a", nameServer: String? = nil, extraArguments: [String] = []) async throws {
        self.brokerName = brokerName
        storeDirectory = NSTemporaryDirectory() + "petrel-client-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: storeDirectory, withIntermediateDirectories: true)
        var attempt = 0
        while true {
            attempt += 1
            let launched = try await Self.launch(
                brokerName: brokerName, nameServer: nameServer, storeDirectory: storeDirectory, extraArguments: extraArguments)
            if launched.started {
                (address, self.nameServer, process, output) = (launched.address, launched.nameServer, launched.process, launched.output)
                return
            }
            Self.terminate(launched.process)
            let text = launched.output.text
            guard attempt < 3, text.contains("Address already in use") else {
                try? FileManager.default.removeItem(atPath: storeDirectory)
                throw HarnessError("petrel-broker did not start: \(text)")
            }
        }
    }

    /// One start attempt on freshly chosen ports; `started` when the broker printed its "listening" line.
    private static func launch(
        brokerName: String, nameServer: String?, storeDirectory: String, extraArguments: [String]
    ) async throws -> (started: Bool, address: String, nameServer: String, process: Process, output: OutputBuffer) {
        let listenPort = try freePort()
        var arguments = [
            "--brokerName", brokerName, "--listenPort", String(listenPort), "--storePathRootDir", storeDirectory,
            "--brokerIP1", "127.0.0.1", "--mappedFileSizeCommitLog", String(16 * 1024 * 1024),
        ]
        var nameServerAddress = nameServer ?? ""
        if let nameServer {
            arguments += ["-n", nameServer]
        } else {
            let nameServerPort = try freePort()
            nameServerAddress = "127.0.0.1:\(nameServerPort)"
            arguments += ["--namesrvListenPort", String(nameServerPort)]
        }
        arguments += extraArguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let output = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.append(data) }
        }
        try process.run()
        let started = await poll(seconds: 60) { [process] in
            output.text.contains("listening on") || !process.isRunning
        }
        return (started && process.isRunning, "127.0.0.1:\(listenPort)", nameServerAddress, process, output)
    }

    /// Stops a child that did not start: SIGTERM, SIGKILL after 20 s.
    private static func terminate(_ process: Process) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The pid of the child.
    var pid: Int32 { process.processIdentifier }

    /// Whether the child is still running.
    var isRunning: Bool { process.isRunning }

    /// SIGKILLs the broker (as a crash would) and waits until it is gone; the store stays.
    func kill() async {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = await poll(seconds: 15) { [process] in !process.isRunning }
    }

    /// Stops the broker with SIGTERM (SIGKILL after 20 s) and removes its store.
    func stop() {
        Self.terminate(process)
        try? FileManager.default.removeItem(atPath: storeDirectory)
    }

    /// A TCP port on 127.0.0.1 the kernel just handed out (and that is free again).
    static func freePort() throws -> Int {
        // Below Linux's ephemeral range (32768-60999): the kernel never hands these out to outgoing
        // connections, so only another test picking the same random port can take it before the
        // child binds it.
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            guard let channel = try? ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port).wait() else { continue }
            try channel.close().wait()
            return port
        }
        throw HarnessError("no free port in 20000-31999")
    }

    /// The `petrel-broker` binary: `PETREL_BROKER`, or next to the test product.
    static func executable() throws -> String {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["PETREL_BROKER"], !override.isEmpty { return override }
        var starts = [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()]
        if let executable = Bundle.main.executableURL { starts.append(executable.resolvingSymlinksInPath().deletingLastPathComponent()) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            starts.append(bundle.bundleURL.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        var searched: [String] = []
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("petrel-broker").path
                searched.append(directory.path)
                if fileManager.isExecutableFile(atPath: candidate) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        throw HarnessError(
            "petrel-broker not found: build it first (`swift build --scratch-path <dir>`; `swift test` builds it too) "
                + "or set PETREL_BROKER. Looked in: \(searched.joined(separator: ", "))")
    }
}

/// Text a child process printed, appended from its pipe's reader.
final class OutputBuffer: Sendable {
    /// The text so far.
    private let contents = Mutex("")

    /// Appends `data` as UTF-8.
    func append(_ data: Data) {
        contents.withLock { $0 += String(decoding: data, as: UTF8.self) }
    }

    /// The text so far.
    var text: String { contents.withLock { $0 } }
}

/// A value shared between tasks of a test.
final class Locked<Value: Sendable>: Sendable {
    /// The value.
    private let storage: Mutex<Value>

    /// A box holding `value`.
    init(_ value: Value) { storage = Mutex(value) }

    /// The current value.
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    /// Changes the value in place.
    func update<Result>(_ change: (inout Value) -> Result) -> Result {
        storage.withLock { change(&$0) }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; true when it held.
func poll(seconds: Double, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
