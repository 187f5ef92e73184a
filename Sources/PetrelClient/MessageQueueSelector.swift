import PetrelCore

/// The value an ordered send passes to its selector (Java passes any `Object` and hashes it).
/// Only integers and strings, so the hash is the same in every process and in Java clients:
/// messages with one argument land in one queue whichever client sent them.
public enum SelectorArgument: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    /// An integer, e.g. an order id.
    case integer(Int64)
    /// A string, e.g. a customer id.
    case string(String)

    /// An integer argument.
    public init(integerLiteral value: Int64) { self = .integer(value) }

    /// A string argument.
    public init(stringLiteral value: String) { self = .string(value) }

    /// Java's `hashCode()` of the boxed value: `Integer` for values in the 32-bit range, else `Long`
    /// (`value ^ (value >>> 32)`), `String.hashCode()` for strings.
    public var javaHashCode: Int32 {
        switch self {
        case .integer(let value):
            if let small = Int32(exactly: value) { return small }
            let bits = UInt64(bitPattern: value)
            return Int32(truncatingIfNeeded: bits ^ (bits >> 32))
        case .string(let text):
            return TagHash.javaStringHashCode(text)
        }
    }
}

/// Picks the queue of an ordered send from the topic's publish queues (Java `MessageQueueSelector`).
public protocol MessageQueueSelector: Sendable {
    /// The queue for `message`, one of `queues` (never empty); nil to fail the send.
    func select(from queues: [MessageQueue], message: ProducerMessage, argument: SelectorArgument) -> MessageQueue?
}

/// The queue at `hash(argument) mod count` (Java `SelectMessageQueueByHash`): a fixed argument
/// always maps to the same queue while the queue count stays the same.
public struct HashQueueSelector: MessageQueueSelector {
    /// The selector.
    public init() {}

    /// `queues[abs(hash % count)]`, as Java computes it.
    public func select(from queues: [MessageQueue], message: ProducerMessage, argument: SelectorArgument) -> MessageQueue? {
        guard !queues.isEmpty else { return nil }
        let remainder = Int(argument.javaHashCode) % queues.count
        return queues[abs(remainder)]
    }
}

/// A random queue (Java `SelectMessageQueueByRandom`).
public struct RandomQueueSelector: MessageQueueSelector {
    /// The selector.
    public init() {}

    /// A random element of `queues`.
    public func select(from queues: [MessageQueue], message: ProducerMessage, argument: SelectorArgument) -> MessageQueue? {
        queues.randomElement()
    }
}

/// A selector from a closure, for callers that pick by their own rule (the C API's callback).
public struct ClosureQueueSelector: MessageQueueSelector {
    /// The rule.
    private let rule: @Sendable ([MessageQueue], ProducerMessage, SelectorArgument) -> MessageQueue?

    /// A selector running `rule`.
    public init(_ rule: @escaping @Sendable ([MessageQueue], ProducerMessage, SelectorArgument) -> MessageQueue?) {
        self.rule = rule
    }

    /// What the rule returns.
    public func select(from queues: [MessageQueue], message: ProducerMessage, argument: SelectorArgument) -> MessageQueue? {
        rule(queues, message, argument)
    }
}
