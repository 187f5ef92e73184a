import PetrelCore
import Testing

/// The push-consumer heartbeat the C++ 1.2.3 client sent in the capture (spec §7), trailing `\n` included.
let cppConsumerHeartbeat = """
    {"clientID":"24723-127.0.0.1@DEFAULT","consumerDataSet":[{"consumeFromWhere":0,"consumeType":1,"groupName":"CG_push",\
    "messageModel":1,"subscriptionDataSet":[{"subString":"*","subVersion":"1795537081355","topic":"%RETRY%CG_push"},\
    {"codeSet":[0,0,0],"subString":"TagA || TagB || TagC","subVersion":"1795537081355","tagsSet":["TagA","TagB","TagC"],\
    "topic":"TopicTest"}]}]}\n
    """

/// The producer heartbeat the C++ 1.2.3 client sent in the capture (spec §7).
let cppProducerHeartbeat = "{\"clientID\":\"27829-127.0.0.1@DEFAULT\",\"producerDataSet\":[{\"groupName\":\"PG_long\"}]}\n"

/// A heartbeat as a Java 4.9 push consumer writes it: enums by name, numeric subVersion, unitMode,
/// the inner producer group, and members this decoder does not know.
let javaConsumerHeartbeat = """
    {"clientID":"10.0.0.7@12345#1234567890","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET",\
    "consumeType":"CONSUME_PASSIVELY","groupName":"CG_java","messageModel":"BROADCASTING","subscriptionDataSet":[\
    {"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000123,\
    "tagsSet":["TagA"],"topic":"TopicTest"},{"classFilterMode":false,"codeSet":[],"expressionType":"SQL92",\
    "subString":"a > 5","subVersion":1700000000124,"tagsSet":[],"topic":"SqlTopic"}],"unitMode":false}],\
    "heartbeatFingerprint":0,"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}]}
    """

@Suite("Heartbeat JSON (spec §7)")
struct HeartbeatJSONTests {
    @Test("the C++ consumer heartbeat decodes: ordinals, string subVersion, recomputed tag codes")
    func cppConsumer() throws {
        let heartbeat = try HeartbeatData(jsonText: cppConsumerHeartbeat)
        #expect(heartbeat.clientID == "24723-127.0.0.1@DEFAULT")
        #expect(heartbeat.producerDataSet.isEmpty)
        #expect(heartbeat.consumerDataSet.count == 1)
        let consumer = heartbeat.consumerDataSet[0]
        #expect(consumer.groupName == "CG_push")
        #expect(consumer.consumeType == .consumePassively)
        #expect(consumer.messageModel == .clustering)
        #expect(consumer.consumeFromWhere == .consumeFromLastOffset)
        #expect(consumer.unitMode == false)
        let retry = consumer.subscriptionDataSet[0], tagged = consumer.subscriptionDataSet[1]
        #expect(retry.topic == "%RETRY%CG_push")
        #expect(retry.subscribesAll && retry.tagsSet.isEmpty && retry.codeSet.isEmpty)
        #expect(retry.subVersion == 1_795_537_081_355)
        #expect(retry.expressionType == "TAG")
        #expect(tagged.tagsSet == ["TagA", "TagB", "TagC"])
        // The client's [0,0,0] is ignored: codes are the Java hashes of the tags.
        #expect(tagged.codeSet == ["TagA", "TagB", "TagC"].map(TagHash.javaStringHashCode))
        #expect(tagged.codeSet.first == 2_598_919)
        #expect(tagged.subVersion == 1_795_537_081_355)
    }

    @Test("the C++ producer heartbeat decodes with no consumer set")
    func cppProducer() throws {
        let heartbeat = try HeartbeatData(jsonText: cppProducerHeartbeat)
        #expect(heartbeat == HeartbeatData(clientID: "27829-127.0.0.1@DEFAULT", producerDataSet: [ProducerData(groupName: "PG_long")]))
    }

    @Test("a Java heartbeat decodes: enum names, numeric subVersion, SQL92 without tags, unknown members")
    func javaConsumer() throws {
        let heartbeat = try HeartbeatData(jsonText: javaConsumerHeartbeat)
        #expect(heartbeat.producerDataSet == [ProducerData(groupName: "CLIENT_INNER_PRODUCER")])
        let consumer = heartbeat.consumerDataSet[0]
        #expect(consumer.consumeFromWhere == .consumeFromFirstOffset)
        #expect(consumer.messageModel == .broadcasting)
        #expect(consumer.subscriptionDataSet[0] == SubscriptionData(topic: "TopicTest", subString: "TagA", subVersion: 1_700_000_000_123))
        let sql = consumer.subscriptionDataSet[1]
        #expect(sql.expressionType == "SQL92" && sql.tagsSet.isEmpty && sql.codeSet.isEmpty && !sql.subscribesAll)
    }

    @Test("encode → decode round trips, and the output is Java's shape")
    func roundTrip() throws {
        let heartbeat = HeartbeatData(
            clientID: "c1",
            producerDataSet: [ProducerData(groupName: "PG")],
            consumerDataSet: [
                ConsumerData(
                    groupName: "CG", consumeType: .consumeActively, messageModel: .broadcasting,
                    consumeFromWhere: .consumeFromTimestamp,
                    subscriptionDataSet: [
                        SubscriptionData(topic: "T", subString: "TagA || TagB", subVersion: 5),
                        SubscriptionData(topic: "S", subString: "a IS NOT NULL", expressionType: "SQL92"),
                    ], unitMode: true)
            ])
        #expect(try HeartbeatData(jsonText: heartbeat.jsonText) == heartbeat)
        #expect(try HeartbeatData(jsonBytes: heartbeat.jsonBytes() + [0x0A]) == heartbeat)
        #expect(SubscriptionData(topic: "T", subString: "TagA", subVersion: 9).jsonText == """
            {"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":9,\
            "tagsSet":["TagA"],"topic":"T"}
            """)
        #expect(HeartbeatData(clientID: "x").jsonText == #"{"clientID":"x","consumerDataSet":[],"producerDataSet":[]}"#)
        let consumerJSON = ConsumerData(groupName: "G").jsonText
        #expect(consumerJSON.contains(#""consumeType":"CONSUME_PASSIVELY""#))
        #expect(consumerJSON.contains(#""consumeFromWhere":"CONSUME_FROM_LAST_OFFSET""#))
        #expect(consumerJSON.contains(#""messageModel":"CLUSTERING""#))
    }

    @Test("every enum decodes from its Java name, its ordinal, and its ordinal as a string")
    func enumEncodings() throws {
        func check<E: JSONEnumeration & Equatable>(_ type: E.Type, _ names: [String]) {
            #expect(E.allCases.map(\.javaName) == names)
            for (ordinal, name) in names.enumerated() {
                #expect(E(json: .string(name)) == E(rawValue: Int32(ordinal)))
                #expect(E(json: .integer(ordinal)) == E(rawValue: Int32(ordinal)))
                #expect(E(json: .string(String(ordinal))) == E(rawValue: Int32(ordinal)))
            }
            #expect(E(json: .integer(names.count)) == nil)
            #expect(E(json: .integer(-1)) == nil)
            #expect(E(json: .string("NOPE")) == nil)
            #expect(E(json: .array([])) == nil)
        }
        check(ConsumeType.self, ["CONSUME_ACTIVELY", "CONSUME_PASSIVELY"])
        check(MessageModel.self, ["BROADCASTING", "CLUSTERING"])
        check(ConsumeFromWhere.self, [
            "CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST", "CONSUME_FROM_MIN_OFFSET",
            "CONSUME_FROM_MAX_OFFSET", "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP",
        ])
        check(TopicFilterType.self, ["SINGLE_TAG", "MULTI_TAG"])
        let bad = #"{"groupName":"G","messageModel":"SIDEWAYS"}"#
        #expect(coreErrorCode { _ = try ConsumerData(jsonText: bad) } == .invalidJSONField)
        #expect(coreErrorCode { _ = try ConsumerData(jsonText: #"{"groupName":"G","consumeType":7}"#) } == .invalidJSONField)
        // Missing enums take the push-consumer defaults.
        #expect(try ConsumerData(jsonText: #"{"groupName":"G"}"#) == ConsumerData(groupName: "G"))
    }

    @Test("tag codes are recomputed from tagsSet, or from subString when tagsSet is empty")
    func tagRecomputation() throws {
        #expect(SubscriptionData(topic: "T", subString: "TagA").codeSet == [2_598_919])
        let fromString = try SubscriptionData(jsonText: #"{"topic":"T","subString":" TagA ||  || TagB||TagA ","codeSet":[1,2]}"#)
        #expect(fromString.tagsSet == ["TagA", "TagB"])
        #expect(fromString.codeSet == [2_598_919, TagHash.javaStringHashCode("TagB")])
        let fromSet = try SubscriptionData(jsonText: #"{"topic":"T","subString":"ignored","tagsSet":["X","X","Y"],"codeSet":[0]}"#)
        #expect(fromSet.tagsSet == ["X", "Y"])
        #expect(fromSet.codeSet == [88, 89])
        for everything in ["*", "", " * ", "  "] {
            let data = try SubscriptionData(jsonText: #"{"topic":"T","subString":"\#(everything)"}"#)
            #expect(data.subscribesAll && data.tagsSet.isEmpty && data.codeSet.isEmpty, "'\(everything)'")
        }
        // Colliding hashes appear once, as in Java's code set.
        #expect(SubscriptionData(topic: "T", subString: "Aa||BB").codeSet == [2112])
        #expect(SubscriptionData.tags(fromExpression: "a||b|c") == ["a", "b|c"])
        #expect(try SubscriptionData(jsonText: #"{"topic":"T"}"#).subString == "*")
        #expect(try SubscriptionData(jsonText: #"{"topic":"T","subVersion":" 12 "}"#).subVersion == 12)
        #expect(coreErrorCode { _ = try SubscriptionData(jsonText: #"{"topic":"T","subVersion":"soon"}"#) } == .invalidJSONField)
    }

    @Test("missing required members fail with invalidJSONField; booleans accept C++ forms")
    func requiredMembersAndBooleans() throws {
        #expect(coreErrorCode { _ = try HeartbeatData(jsonText: #"{"producerDataSet":[]}"#) } == .invalidJSONField)
        #expect(coreErrorCode { _ = try HeartbeatData(jsonText: #"{"clientID":"c","producerDataSet":[{}]}"#) } == .invalidJSONField)
        #expect(coreErrorCode { _ = try HeartbeatData(jsonText: #"{"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{}]}]}"#) } == .invalidJSONField)
        #expect(coreErrorCode { _ = try HeartbeatData(jsonText: #"{"clientID":{}}"#) } == .invalidJSONField)
        for (text, expected) in [("true", true), ("\"1\"", true), ("1", true), ("\"TRUE\"", true), ("\"0\"", false), ("false", false)] {
            #expect(try ConsumerData(jsonText: #"{"groupName":"G","unitMode":\#(text)}"#).unitMode == expected, "\(text)")
        }
        #expect(coreErrorCode { _ = try ConsumerData(jsonText: #"{"groupName":"G","unitMode":"maybe"}"#) } == .invalidJSONField)
        // A number for a string member is taken as its text (C++ sends some fields as numbers).
        #expect(try ProducerData(jsonText: #"{"groupName":42}"#).groupName == "42")
    }

    @Test("2,000 damaged heartbeats fail with a CoreError or decode, never crash")
    func damagedHeartbeats() {
        var failures = expectDamageIsSafe(cppConsumerHeartbeat, count: 900, seed: 21) { bytes throws(CoreError) in
            _ = try HeartbeatData(jsonBytes: bytes)
        }
        failures += expectDamageIsSafe(cppProducerHeartbeat, count: 300, seed: 22) { bytes throws(CoreError) in
            _ = try HeartbeatData(jsonBytes: bytes)
        }
        failures += expectDamageIsSafe(javaConsumerHeartbeat, count: 800, seed: 23) { bytes throws(CoreError) in
            _ = try HeartbeatData(jsonBytes: bytes)
        }
        #expect(failures > 1_000)
    }
}
