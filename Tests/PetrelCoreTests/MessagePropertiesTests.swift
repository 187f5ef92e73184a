import PetrelCore
import Testing

@Suite("Message properties (spec §11)")
struct MessagePropertiesTests {
    /// Bytes of a properties string written with `\u{1}` / `\u{2}` separators.
    static func wire(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Key/value pairs in order.
    static func pairs(_ properties: MessageProperties) -> [[String]] {
        properties.map { [$0.key, $0.value] }
    }

    @Test("encoding keeps insertion order and writes no trailing separator")
    func encodeOrder() {
        let properties = MessageProperties([("KEYS", "k1"), ("TAGS", "TagA"), ("UNIQ_KEY", "U")])
        #expect(properties.encoded() == Self.wire("KEYS\u{1}k1\u{2}TAGS\u{1}TagA\u{2}UNIQ_KEY\u{1}U"))
        var reordered = MessageProperties()
        reordered["B"] = "2"
        reordered["A"] = "1"
        #expect(reordered.encoded() == Self.wire("B\u{1}2\u{2}A\u{1}1"))
        #expect(MessageProperties().encoded() == [])
        #expect(MessageProperties([("A", "1")]).encoded() == Self.wire("A\u{1}1"))
    }

    @Test("decode of what encode wrote gives the same properties")
    func roundTrip() {
        let properties = MessageProperties([("KEYS", "a b c"), ("TAGS", "x"), ("ключ", "値")])
        #expect(MessageProperties.decode(properties.encoded()) == properties)
        #expect(MessageProperties.decode([]).isEmpty)
    }

    @Test("a trailing 0x02, as the C++ client writes, is tolerated")
    func trailingSeparator() {
        let decoded = MessageProperties.decode(Self.wire("KEYS\u{1}k1\u{2}TAGS\u{1}TagA\u{2}"))
        #expect(Self.pairs(decoded) == [["KEYS", "k1"], ["TAGS", "TagA"]])
    }

    @Test("empty segments are skipped")
    func emptySegments() {
        let decoded = MessageProperties.decode(Self.wire("\u{2}\u{2}A\u{1}1\u{2}\u{2}\u{2}B\u{1}2\u{2}\u{2}"))
        #expect(Self.pairs(decoded) == [["A", "1"], ["B", "2"]])
        #expect(MessageProperties.decode(Self.wire("\u{2}")).isEmpty)
        #expect(MessageProperties.decode(Self.wire("\u{2}\u{2}\u{2}")).isEmpty)
    }

    @Test("entries with an empty key or value, or no separator, are dropped")
    func droppedEntries() {
        let decoded = MessageProperties.decode(
            Self.wire("\u{1}v\u{2}A\u{1}1\u{2}K\u{1}\u{2}\u{1}\u{2}novalue\u{2}B\u{1}2"))
        #expect(Self.pairs(decoded) == [["A", "1"], ["B", "2"]])
    }

    @Test("values with '=', spaces and further 0x01 bytes are kept whole")
    func valuesKeptWhole() {
        let decoded = MessageProperties.decode(Self.wire("Q\u{1}a=b c=d\u{2}S\u{1}  two  spaces \u{2}X\u{1}p\u{1}q"))
        #expect(decoded["Q"] == "a=b c=d")
        #expect(decoded["S"] == "  two  spaces ")
        #expect(decoded["X"] == "p\u{1}q")
    }

    @Test("a duplicate key replaces the earlier value in place")
    func duplicateKey() {
        let decoded = MessageProperties.decode(Self.wire("A\u{1}1\u{2}B\u{1}2\u{2}A\u{1}3"))
        #expect(Self.pairs(decoded) == [["A", "3"], ["B", "2"]])
        let built = MessageProperties([("A", "1"), ("B", "2"), ("A", "3")])
        #expect(built == decoded)
    }

    @Test("subscript set, replace and remove")
    func subscriptEditing() {
        var properties = MessageProperties([("A", "1"), ("B", "2"), ("C", "3")])
        properties["B"] = nil
        #expect(Self.pairs(properties) == [["A", "1"], ["C", "3"]])
        properties["A"] = "9"
        properties["D"] = "4"
        properties["missing"] = nil
        #expect(Self.pairs(properties) == [["A", "9"], ["C", "3"], ["D", "4"]])
        #expect(properties["missing"] == nil)
    }

    @Test("equality and hashing follow the entries in order")
    func equalityIsOrdered() {
        let ab = MessageProperties([("A", "1"), ("B", "2")])
        let ba = MessageProperties([("B", "2"), ("A", "1")])
        #expect(ab != ba)
        #expect(ab == MessageProperties([("A", "1"), ("B", "2")]))
        #expect(Set([ab, MessageProperties([("A", "1"), ("B", "2")])]).count == 1)
    }

    @Test("Message exposes tags, keys and unique key from its properties")
    func messageAccessors() {
        let message = Message(
            topic: "T",
            properties: MessageProperties([("KEYS", " order-1  order-2 "), ("TAGS", "TagA"), ("UNIQ_KEY", "U1")]),
            body: .init())
        #expect(message.keys == ["order-1", "order-2"])
        #expect(message.tags == "TagA")
        #expect(message.uniqueKey == "U1")
        let bare = Message(topic: "T", body: .init())
        #expect(bare.keys.isEmpty)
        #expect(bare.tags == nil)
        #expect(bare.uniqueKey == nil)
    }
}
