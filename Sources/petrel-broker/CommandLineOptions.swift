import Foundation
import PetrelBroker

/// `petrel-broker`'s command line: `-c FILE` (a RocketMQ `broker.conf`), `-n ADDR` (namesrvAddr),
/// and any configuration key as `--key value` or `--key=value`. The command line wins over the file.
struct CommandLineOptions {
    /// Key/value pairs in the order they apply: the file's first, then the command line's.
    var pairs: [(key: String, value: String)] = []
    /// Whether `-h`/`--help` was given.
    var wantsHelp = false

    /// Parses `arguments` (without the program name), reading the `-c` file.
    static func parse(_ arguments: [String]) throws -> CommandLineOptions {
        var options = CommandLineOptions()
        var filePairs: [(key: String, value: String)] = []
        var index = 0
        func value(after option: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(option) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "-h", "--help":
                options.wantsHelp = true
            case "-c", "--config":
                let path = try value(after: argument)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw UsageError("cannot read configuration file '\(path)'")
                }
                filePairs += try BrokerConfigurationKeys.parseProperties(text)
            case "-n":
                options.pairs.append(("namesrvAddr", try value(after: argument)))
            default:
                guard argument.hasPrefix("--"), argument.count > 2 else {
                    throw UsageError("unexpected argument '\(argument)'; options are -c FILE, -n ADDR and --key value")
                }
                let option = String(argument.dropFirst(2))
                if let equals = option.firstIndex(of: "=") {
                    options.pairs.append((String(option[..<equals]), String(option[option.index(after: equals)...])))
                } else {
                    options.pairs.append((option, try value(after: argument)))
                }
            }
            index += 1
        }
        options.pairs = filePairs + options.pairs
        return options
    }

    /// The help text, listing every configuration key.
    static var usage: String {
        """
        usage: petrel-broker [-c broker.conf] [-n namesrvAddr] [--key value ...]

        Starts a Petrel broker. Without namesrvAddr it also runs an embedded name server on
        127.0.0.1:namesrvListenPort (9876). SIGTERM or SIGINT stops it cleanly.

        configuration keys (RocketMQ's names; also accepted in broker.conf as key=value):
          \(BrokerConfigurationKeys.knownKeys.joined(separator: "\n  "))
        """
    }
}

/// A command-line mistake, printed with the usage hint.
struct UsageError: Error, CustomStringConvertible {
    /// What is wrong.
    let description: String

    /// Creates the error.
    init(_ description: String) { self.description = description }
}
