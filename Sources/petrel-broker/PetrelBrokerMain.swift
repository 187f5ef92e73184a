import Foundation
import Logging
import NIOCore
import NIOPosix
import PetrelBroker
import PetrelNameServer
import PetrelStore
import ServiceLifecycle

/// `petrel-broker`: reads configuration, starts the embedded name server when no name server is
/// configured, opens the broker, and runs both until SIGTERM/SIGINT (then stops accepting, flushes,
/// checkpoints, removes the abort marker and exits 0).
@main
struct PetrelBrokerMain {
    /// Entry point.
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        let configuration: BrokerConfiguration
        do {
            let options = try CommandLineOptions.parse(arguments)
            if options.wantsHelp {
                print(CommandLineOptions.usage)
                exit(0)
            }
            var built = BrokerConfiguration(storeRoot: NSHomeDirectory() + "/store")
            try BrokerConfigurationKeys.apply(options.pairs, to: &built)
            // The plugin directory: `pluginDirectory`, else $PETREL_PLUGIN_DIR (the library reads no environment).
            if built.compression.pluginDirectory == nil, let directory = ProcessInfo.processInfo.environment["PETREL_PLUGIN_DIR"],
               !directory.isEmpty {
                built.compression.pluginDirectory = directory
            }
            configuration = built
        } catch {
            FileHandle.standardError.write(Data("petrel-broker: \(error)\nrun petrel-broker --help for the options\n".utf8))
            exit(2)
        }
        do {
            try await run(configuration)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("petrel-broker: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Starts the services and runs them until a shutdown signal.
    static func run(_ initial: BrokerConfiguration) async throws {
        var configuration = initial
        let logger = Logger(label: "petrel.broker")
        let group = MultiThreadedEventLoopGroup.singleton
        var services: [any Service] = []
        var nameServerNote = "name servers \(configuration.nameServerAddresses.joined(separator: ";"))"
        if configuration.nameServerAddresses.isEmpty {
            var nameServerConfiguration = NameServerConfiguration()
            nameServerConfiguration.host = "127.0.0.1"
            nameServerConfiguration.port = configuration.nameServerListenPort
            let nameServer = NameServer(configuration: nameServerConfiguration, group: group,
                                        logger: Logger(label: "petrel.namesrv"))
            let port = try await nameServer.start()
            configuration.nameServerAddresses = ["127.0.0.1:\(port)"]
            nameServerNote = "embedded name server on 127.0.0.1:\(port)"
            services.append(nameServer)
        }
        let broker = try await BrokerController.open(configuration: configuration, group: group, logger: logger)
        services.append(broker)
        // Register before announcing readiness: a client that connects as soon as it reads the line
        // below must already find this broker's routes (TBW102 included) at the name server.
        await broker.registerWithNameServers()
        let store = configuration.store
        print("""
        petrel-broker \(configuration.brokerName) listening on \(configuration.brokerIP1):\(broker.listenPort) \
        (cluster \(configuration.brokerClusterName), brokerId \(configuration.brokerId), role \(configuration.brokerRole.rawValue))
        petrel-broker store: \(store.rootDirectory) (commit log \(store.commitLogDirectory), segments of \(store.commitLogSegmentSize) bytes)
        petrel-broker durability: flushDiskType=\(store.flushMode.rawValue) \
        (\(store.flushMode == .sync ? "a send is acknowledged once fsynced; group commit" : "acknowledged in the page cache; flushed every \(store.asyncFlushInterval)")), \
        fileReservedTime=\(store.fileReservedTime.components.seconds / 3600)h, deleteWhen=\(store.deleteWhenHours.sorted())
        petrel-broker compression: compressorPlugin=\(configuration.compression.compressorPlugin?.description ?? "(none)"), \
        default compressionType=\(configuration.compression.defaults.codec.rawValue)
        petrel-broker \(nameServerNote)
        """)
        fflush(nil)  // all output streams: the line above must reach a pipe before the broker serves
        let serviceGroup = ServiceGroup(configuration: .init(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        try await serviceGroup.run()
    }
}
