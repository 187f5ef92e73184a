/// Reads and writes queue-keyed offset maps as fastjson writes them: the `offsetTable` of Java's
/// `ResetOffsetBody` (RESET_CONSUMER_CLIENT_OFFSET, INVOKE_BROKER_TO_RESET_OFFSET) and the
/// `messageQueueTable` of `GetConsumerStatusBody`:
/// `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:42,…}}`. fastjson writes the
/// `MessageQueue` keys as objects, which `JSONParser` (standard JSON plus bare keys) does not accept, so
/// this small scanner finds each key object by brace matching, parses it alone, and reads the number
/// after it.
public enum QueueKeyedOffsets {
    /// The offsets by queue in the map named `member` (the first member of that name in `bytes`);
    /// throws for a body of another shape.
    public static func parse(_ bytes: [UInt8], member: String = "offsetTable") throws(CoreError) -> [MessageQueue: Int64] {
        guard let tableStart = find(Array("\"\(member)\"".utf8), in: bytes) else {
            throw CoreError(.malformedJSON, "the body has no \(member)")
        }
        var index = tableStart
        // Past the member name and ':' to the table's own '{'.
        while index < bytes.count, bytes[index] != UInt8(ascii: "{") { index += 1 }
        index += 1
        var offsets: [MessageQueue: Int64] = [:]
        while index < bytes.count {
            skip(whitespaceAnd: ",", in: bytes, at: &index)
            guard index < bytes.count, bytes[index] != UInt8(ascii: "}") else { return offsets }
            guard bytes[index] == UInt8(ascii: "{"), let keyEnd = matchingBrace(in: bytes, from: index) else {
                throw CoreError(.malformedJSON, "offsetTable: expected a MessageQueue object key at byte \(index)")
            }
            let queue = try MessageQueue(json: try JSONValue.parse(bytes[index...keyEnd]))
            index = keyEnd + 1
            skip(whitespaceAnd: ":", in: bytes, at: &index)
            let numberStart = index
            while index < bytes.count, bytes[index] == UInt8(ascii: "-") || (48...57).contains(bytes[index]) { index += 1 }
            guard let offset = Int64(String(decoding: bytes[numberStart..<index], as: UTF8.self)) else {
                throw CoreError(.malformedJSON, "offsetTable: the offset of \(queue) is not an integer")
            }
            offsets[queue] = offset
        }
        throw CoreError(.malformedJSON, "offsetTable is not closed")
    }

    /// `{MQ:offset,…}` with `MessageQueue` objects as keys, in queue order (what `parse` reads).
    public static func text(_ offsets: [MessageQueue: Int64]) -> String {
        "{" + offsets.keys.sorted().map { $0.jsonText + ":" + String(offsets[$0] ?? -1) }.joined(separator: ",") + "}"
    }

    /// The index just past the first occurrence of `needle`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }

    /// Moves `index` past whitespace and `separator`s.
    private static func skip(whitespaceAnd separator: Character, in bytes: [UInt8], at index: inout Int) {
        let separatorByte = separator.asciiValue ?? 0
        while index < bytes.count, [32, 9, 10, 13, separatorByte].contains(bytes[index]) { index += 1 }
    }

    /// The index of the '}' closing the '{' at `start`, strings skipped; nil when unclosed.
    private static func matchingBrace(in bytes: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return nil
    }
}
