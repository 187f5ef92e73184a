import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import PetrelNameServer
import ServiceLifecycle

/// The `petrel-namesrv` command: parses the options, starts the name server, prints where it listens
/// and runs it until SIGTERM or SIGINT asks for a graceful shutdown (then exits 0).
struct NameServerCommand: AsyncParsableCommand {
    /// The command's name and summary.
    static let configuration = CommandConfiguration(
        commandName: "petrel-namesrv",
        abstract: "Petrel name server: broker registry and topic routes for RocketMQ 4.x clients.")

    /// The port, RocketMQ's `listenPort`; overrides the configuration file, as `mqnamesrv -p` does.
    @Option(name: .customLong("listen-port"), help: "Port to listen on (RocketMQ listenPort; 0 picks a free one). (default: 9876)")
    var listenPort: Int?

    /// The interface to listen on.
    @Option(help: "Interface to listen on.")
    var host = "0.0.0.0"

    /// A `namesrv.conf` properties file.
    @Option(
        name: .customShort("c"),
        help: ArgumentHelp("namesrv.conf file of key=value lines (keys: listenPort, orderMessageEnable).", valueName: "file"))
    var configurationFile: String?

    /// Rejects a port out of range before anything starts.
    func validate() throws {
        if let listenPort, !(0...65535).contains(listenPort) {
            throw ValidationError("--listen-port must be between 0 and 65535, got \(listenPort)")
        }
    }

    /// Starts the name server and runs it until a shutdown signal.
    func run() async throws {
        let logger = NameServerLogging.logger
        let configuration = try makeConfiguration()
        let nameServer = NameServer(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let port = try await nameServer.start()
        // Scripts and tests wait for this exact line; written unbuffered so a pipe sees it at once.
        FileHandle.standardOutput.write(Data("petrel-namesrv listening on \(configuration.host):\(port)\n".utf8))
        let group = ServiceGroup(
            services: [nameServer], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        try await group.run()
    }

    /// Defaults, then the configuration file, then the command-line options (RocketMQ's precedence).
    private func makeConfiguration() throws -> NameServerConfiguration {
        var configuration = NameServerConfiguration(host: host)
        if let configurationFile {
            let text: String
            do {
                text = try String(contentsOfFile: configurationFile, encoding: .utf8)
            } catch {
                throw NameServerCommandError("cannot read the configuration file \(configurationFile): \(error.localizedDescription)")
            }
            do {
                try configuration.apply(properties: PropertiesText.parse(text))
            } catch {
                throw NameServerCommandError("\(configurationFile): \(error.message)")
            }
        }
        if let listenPort { configuration.port = listenPort }
        return configuration
    }
}

/// A start-up failure; ArgumentParser prints the message and exits non-zero.
struct NameServerCommandError: Error, CustomStringConvertible {
    /// What went wrong.
    let description: String

    /// An error saying `description`.
    init(_ description: String) {
        self.description = description
    }
}

/// The process-wide logger.
enum NameServerLogging {
    /// swift-log's stream handler on standard error at info level. A static `let` is initialised once,
    /// lazily and thread-safely, which is what `bootstrap` requires (it may run only once per process).
    static let logger: Logger = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        return Logger(label: "petrel.namesrv")
    }()
}

extension NameServerCommand {
    /// Parses the command line and runs the command: what `AsyncParsableCommand.main()` does, spelt
    /// out because from top-level code `NameServerCommand.main()` resolves to ParsableCommand's
    /// synchronous entry point, which would never call the asynchronous `run()`.
    static func launch() async {
        do {
            let command = try parse()
            try await command.run()
        } catch {
            // Prints help for --help (exit 0), usage for bad options, the message for start-up failures.
            exit(withError: error)
        }
    }
}
