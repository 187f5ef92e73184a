import ArgumentParser
import Foundation
import NIOCore
import PetrelCore

/// `petrel-admin`: an administration tool for Petrel and RocketMQ 4.x clusters, with mqadmin's
/// subcommand names and short flags. Every subcommand prints a table, or one JSON document with
/// `--json`; errors go to standard error with exit code 1 (64 for usage errors).
@main
struct PetrelAdmin: AsyncParsableCommand {
    /// The command's name, summary and subcommands.
    static let configuration = CommandConfiguration(
        commandName: "petrel-admin",
        abstract: "Petrel administration tool (mqadmin-compatible subcommand names and flags).",
        subcommands: [
            TopicListCommand.self, TopicRouteCommand.self, ClusterListCommand.self, UpdateTopicCommand.self,
            DeleteTopicCommand.self, TopicStatusCommand.self, ConsumerProgressCommand.self,
            QueryMsgByKeyCommand.self, QueryMsgByIdCommand.self, QueryMsgByOffsetCommand.self,
            SendMessageCommand.self, ConsumeMessageCommand.self, UpdateSubGroupCommand.self,
            ResetOffsetByTimeCommand.self, ResendDLQCommand.self, BrokerStatusCommand.self, DeleteSubGroupCommand.self,
            GetConsumerStatusCommand.self, ConsumerStatusCommand.self,
        ])
}

/// The options every subcommand takes: the name server and the output format.
struct CommonOptions: ParsableArguments {
    /// The name server, `host:port`.
    @Option(name: [.customShort("n"), .customLong("namesrvAddr")], help: "Name server address, host:port.")
    var namesrvAddr = "127.0.0.1:9876"

    /// Print one JSON document instead of a table.
    @Flag(name: .long, help: "Print one JSON document instead of a table.")
    var json = false
}

/// An error the tool reports to the user as one line.
struct AdminError: Error, CustomStringConvertible {
    /// What went wrong, ready to print.
    var message: String

    /// An error with `message`.
    init(_ message: String) { self.message = message }

    /// The message.
    var description: String { message }
}

/// Runs `body` with a session on `options`' name server; reports any error on standard error and
/// exits 1, and always closes the session's connections.
func runAdmin(_ options: CommonOptions, _ body: (AdminSession) async throws -> Void) async throws {
    let session = AdminSession(nameServer: options.namesrvAddr)
    var failure: String?
    do {
        try await body(session)
    } catch let error as AdminError {
        failure = error.message
    } catch let error as ExitCode {
        await session.close()
        throw error
    } catch {
        failure = "\(error)"
    }
    await session.close()
    if let failure {
        FileHandle.standardError.write(Data("petrel-admin: error: \(failure)\n".utf8))
        throw ExitCode.failure
    }
}

/// Printing: aligned tables, JSON documents and message descriptions.
enum Output {
    /// Prints `value` as one JSON document.
    static func json(_ value: JSONValue) {
        print(value.serializedString)
    }

    /// Prints `rows` under `headers`, each column as wide as its widest cell.
    static func table(_ headers: [String], _ rows: [[String]]) {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
        print(line(headers))
        for row in rows { print(line(row)) }
    }

    /// A millisecond timestamp as `yyyy-MM-dd HH:mm:ss,SSS` (UTC), "-" when not positive.
    static func time(_ milliseconds: Int64) -> String {
        guard milliseconds > 0 else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// The offset message id of `stored`.
    static func messageId(_ stored: StoredMessage) -> String {
        MessageId.offsetId(storeHost: stored.storeHost, commitLogOffset: stored.commitLogOffset)
    }

    /// `stored` as a JSON object.
    static func messageJSON(_ stored: StoredMessage) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        for entry in stored.message.properties { properties[entry.key] = .string(entry.value) }
        return .object([
            "topic": .string(stored.message.topic), "msgId": .string(messageId(stored)),
            "uniqKey": stored.message.uniqueKey.map { .string($0) } ?? .null,
            "queueId": .integer(stored.queueId), "queueOffset": .integer(stored.queueOffset.rawValue),
            "commitLogOffset": .integer(stored.commitLogOffset.rawValue),
            "tags": stored.message.tags.map { .string($0) } ?? .null, "keys": .strings(stored.message.keys),
            "body": .string(String(buffer: stored.message.body)), "bodyLength": .integer(stored.message.body.readableBytes),
            "bornTimestamp": .integer(stored.bornTimestamp), "storeTimestamp": .integer(stored.storeTimestamp),
            "bornHost": .string(stored.bornHost.description), "storeHost": .string(stored.storeHost.description),
            "reconsumeTimes": .integer(stored.reconsumeTimes), "properties": .object(properties),
        ])
    }

    /// Prints `stored` as `name: value` lines, as mqadmin's queryMsgById does.
    static func messageDetail(_ stored: StoredMessage) {
        let lines: [(String, String)] = [
            ("OffsetID", messageId(stored)), ("Topic", stored.message.topic), ("Tags", stored.message.tags ?? ""),
            ("Keys", stored.message.keys.joined(separator: " ")), ("Queue ID", String(stored.queueId)),
            ("Queue Offset", String(stored.queueOffset.rawValue)),
            ("CommitLog Offset", String(stored.commitLogOffset.rawValue)),
            ("Reconsume Times", String(stored.reconsumeTimes)), ("Born Timestamp", time(stored.bornTimestamp)),
            ("Store Timestamp", time(stored.storeTimestamp)), ("Born Host", stored.bornHost.description),
            ("Store Host", stored.storeHost.description),
            ("Properties", stored.message.properties.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")),
            ("Body", String(buffer: stored.message.body)),
        ]
        for (name, value) in lines { print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + value) }
    }

    /// Prints `messages` as a table, or as `{"messages":[…]}` with `json`.
    static func messages(_ messages: [StoredMessage], json asJSON: Bool) {
        if asJSON {
            json(.object(["count": .integer(messages.count), "messages": .array(messages.map(messageJSON))]))
            return
        }
        table(
            ["#MessageId", "#QID", "#Offset", "#StoreTime", "#Tags", "#Keys", "#Body"],
            messages.map { stored in
                [messageId(stored), String(stored.queueId), String(stored.queueOffset.rawValue), time(stored.storeTimestamp),
                 stored.message.tags ?? "", stored.message.keys.joined(separator: " "), String(buffer: stored.message.body)]
            })
    }
}
