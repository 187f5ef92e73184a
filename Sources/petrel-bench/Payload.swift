import ArgumentParser
import NIOCore

/// What `produce` sends as bodies.
enum PayloadKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Every body the same `--message-size` bytes of repeating letters (the default).
    case fixed
    /// Realistic JSON events of 200–1,000 bytes from `JSONEventGenerator` (`--message-size` unused).
    case jsonEvents = "json-events"
}

/// `--payload`, `--payload-pool`, `--payload-seed`.
struct PayloadOptions: ParsableArguments {
    /// The kind of bodies.
    @Option(help: "Bodies: fixed (--message-size bytes of letters) or json-events (varied JSON events of 200-1000 bytes).")
    var payload: PayloadKind = .fixed

    /// Distinct json-events bodies.
    @Option(help: "json-events: distinct events generated before the clock starts; sends cycle through them.")
    var payloadPool = 16_384

    /// The generator's seed.
    @Option(help: "json-events: generator seed (same seed, same events).")
    var payloadSeed: UInt64 = 1

    /// Rejects an empty pool.
    func validatePayload() throws {
        guard payloadPool > 0 else { throw ValidationError("--payload-pool must be positive, not \(payloadPool).") }
    }

    /// The bodies for a run, generated now (before any clock starts).
    func pool(messageSize: Int) -> PayloadPool {
        PayloadPool(kind: payload, messageSize: messageSize, poolSize: payloadPool, seed: payloadSeed)
    }
}

/// The bodies of a run, made before it starts so generating them costs the measurement nothing;
/// message `i` carries `bodies[i % bodies.count]` (ByteBuffer is copy-on-write: sends share storage).
struct PayloadPool: Sendable {
    /// The distinct bodies.
    let bodies: [ByteBuffer]
    /// The kind.
    let kind: PayloadKind

    /// `poolSize` JSON events from `seed`, or one fixed body of `messageSize` bytes.
    init(kind: PayloadKind, messageSize: Int, poolSize: Int, seed: UInt64) {
        self.kind = kind
        switch kind {
        case .fixed:
            var body = ByteBufferAllocator().buffer(capacity: messageSize)
            for index in 0..<messageSize { body.writeInteger(UInt8(truncatingIfNeeded: 97 + index % 19)) }
            bodies = [body]
        case .jsonEvents:
            var generator = JSONEventGenerator(seed: seed)
            bodies = (0..<poolSize).map { _ in ByteBuffer(bytes: generator.next()) }
        }
    }

    /// The body of message `index`.
    func body(at index: Int) -> ByteBuffer { bodies[index % bodies.count] }

    /// The body bytes of messages `0..<count`.
    func totalBytes(messages count: Int) -> Int {
        let sizes = bodies.map(\.readableBytes)
        let cycleBytes = sizes.reduce(0, +)
        return count / sizes.count * cycleBytes + sizes.prefix(count % sizes.count).reduce(0, +)
    }
}

/// `petrel-bench payload`: prints the bodies `produce --payload …` would send, one per line, so
/// their shape can be inspected and tested without a broker.
struct PayloadCommand: ParsableCommand {
    /// Name and summary.
    static let configuration = CommandConfiguration(
        commandName: "payload", abstract: "Print the bodies produce would send, one per line (json-events: JSON Lines).")

    /// The payload settings, as `produce` takes them.
    @OptionGroup var payloadOptions: PayloadOptions

    /// Body size for the fixed payload.
    @Option(help: "Body size of the fixed payload, in bytes.")
    var messageSize = 1024

    /// How many bodies.
    @Option(help: "Number of bodies to print.")
    var count = 10

    /// Checks the counts.
    func validate() throws {
        try payloadOptions.validatePayload()
        guard count > 0, messageSize > 0 else { throw ValidationError("--count and --message-size must be positive.") }
    }

    /// Prints `count` bodies from a pool of `max(count, --payload-pool)`.
    func run() throws {
        let pool = PayloadPool(
            kind: payloadOptions.payload, messageSize: messageSize, poolSize: min(count, payloadOptions.payloadPool),
            seed: payloadOptions.payloadSeed)
        for index in 0..<count { print(String(buffer: pool.body(at: index))) }
    }
}
