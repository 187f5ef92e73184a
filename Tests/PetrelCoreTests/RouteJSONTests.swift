import PetrelCore
import Testing

/// The route JSON the spec prints (§6.1), exactly as the C++ client accepted it.
let specRouteJSON = """
    {"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:20911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],\
    "filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}
    """

/// The cluster-info JSON the spec prints (§6.2).
let specClusterInfoJSON = """
    {"brokerAddrTable":{"broker-a":{"brokerAddrs":{"0":"ip:port"},"brokerName":"broker-a","cluster":"DefaultCluster"}},\
    "clusterAddrTable":{"DefaultCluster":["broker-a"]}}
    """

/// The value `specRouteJSON` describes.
let specRoute = TopicRouteData(
    queueDatas: [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: .readWrite)],
    brokerDatas: [BrokerData(cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: [0: "127.0.0.1:20911"])])

@Suite("Route, cluster, topic-list, KV and registration JSON (spec §6)")
struct RouteJSONTests {
    @Test("the spec's route example decodes to one broker with four read/write queues")
    func specRouteDecodes() throws {
        let route = try TopicRouteData(jsonText: specRouteJSON)
        #expect(route == specRoute)
        #expect(route.orderTopicConf == nil)
        #expect(route.brokerDatas[0].masterAddress == "127.0.0.1:20911")
        #expect(route.queueDatas[0].perm.isReadable && route.queueDatas[0].perm.isWritable)
    }

    @Test("encoding the route gives the spec's bytes exactly: quoted keys, members sorted")
    func specRouteEncodes() throws {
        #expect(specRoute.jsonText == specRouteJSON)
        #expect(try TopicRouteData(jsonBytes: specRoute.jsonBytes()) == specRoute)
        #expect(try TopicRouteData(jsonBuffer: specRoute.jsonBuffer()) == specRoute)
    }

    @Test("fastjson's unquoted integer keys decode like quoted ones")
    func unquotedKeys() throws {
        let fastjson = """
            {"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a",\
            "cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,\
            "readQueueNums":8,"topicSynFlag":0,"writeQueueNums":8}]}
            """
        let route = try TopicRouteData(jsonText: fastjson)
        #expect(route.brokerDatas[0].brokerAddrs == [0: "10.0.0.1:10911", 1: "10.0.0.2:10911"])
        #expect(route.brokerDatas[0].masterAddress == "10.0.0.1:10911")
        // Re-encoded, the keys come out quoted.
        #expect(route.jsonText.contains(#"{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}"#))
        let spaced = try BrokerData(jsonText: "{ \"brokerName\" : \"b\" , \"brokerAddrs\" : { 0 : \"x:1\" , \" 2\" : \"y:2\" } }")
        #expect(spaced.brokerAddrs == [0: "x:1", 2: "y:2"])
    }

    @Test("optional and legacy members: orderTopicConf, topicSynFlag, filter servers, unknown members")
    func optionalMembers() throws {
        let text = """
            {"orderTopicConf":"broker-a:4;broker-b:4","queueDatas":[{"brokerName":"broker-a","perm":"6",\
            "readQueueNums":"4","writeQueueNums":4,"topicSynFlag":3,"extra":[1,{"x":null}]}],\
            "brokerDatas":[],"filterServerTable":{"10.0.0.1:10911":["10.0.0.1:1","10.0.0.1:2"]},\
            "topicQueueMappingByBroker":{"broker-a":{}}}\n
            """
        let route = try TopicRouteData(jsonText: text)
        #expect(route.orderTopicConf == "broker-a:4;broker-b:4")
        #expect(route.queueDatas == [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: .readWrite, topicSysFlag: 3)])
        #expect(route.filterServerTable == ["10.0.0.1:10911": ["10.0.0.1:1", "10.0.0.1:2"]])
        #expect(try TopicRouteData(jsonText: route.jsonText) == route)
        // An empty object is an empty route; null members count as missing.
        #expect(try TopicRouteData(jsonText: "{}") == TopicRouteData(queueDatas: [], brokerDatas: []))
        #expect(try TopicRouteData(jsonText: #"{"queueDatas":null,"orderTopicConf":null}"#).queueDatas.isEmpty)
    }

    @Test("the spec's cluster info decodes, and encodes back to the same bytes")
    func specClusterInfo() throws {
        let info = try ClusterInfo(jsonText: specClusterInfoJSON)
        let group = BrokerData(cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: [0: "ip:port"])
        #expect(info == ClusterInfo(brokerAddrTable: ["broker-a": group], clusterAddrTable: ["DefaultCluster": ["broker-a"]]))
        #expect(info.jsonText == specClusterInfoJSON)
    }

    @Test("cluster members are written sorted and round-trip")
    func clusterInfoRoundTrip() throws {
        let info = ClusterInfo(
            brokerAddrTable: [
                "b": BrokerData(cluster: "C1", brokerName: "b", brokerAddrs: [0: "10.0.0.2:10911", 1: "10.0.0.3:10911"]),
                "a": BrokerData(cluster: "C1", brokerName: "a", brokerAddrs: [0: "10.0.0.1:10911"]),
            ],
            clusterAddrTable: ["C1": ["b", "a"], "C2": []])
        #expect(info.jsonText.contains(#""clusterAddrTable":{"C1":["a","b"],"C2":[]}"#))
        #expect(try ClusterInfo(jsonText: info.jsonText) == info)
    }

    @Test("topic lists and KV tables use the spec's shapes")
    func topicListAndKVTable() throws {
        #expect(TopicList(topicList: ["t2", "t1"]).jsonText == #"{"topicList":["t1","t2"]}"#)
        let system = TopicList(topicList: ["DefaultCluster"], brokerAddr: "10.0.0.1:10911")
        #expect(system.jsonText == #"{"brokerAddr":"10.0.0.1:10911","topicList":["DefaultCluster"]}"#)
        #expect(try TopicList(jsonText: system.jsonText) == system)
        #expect(try TopicList(jsonText: "{}") == TopicList())

        let table = KVTable(table: ["k": "v", "a": "b"])
        #expect(table.jsonText == #"{"table":{"a":"b","k":"v"}}"#)
        #expect(try KVTable(jsonText: #"{"table":{"k":"v","n":7}}"#) == KVTable(table: ["k": "v", "n": "7"]))
    }

    @Test("topic configuration: Java member names, Java defaults, compact text")
    func topicConfig() throws {
        let config = TopicConfig(topicName: "TopicTest", readQueueNums: 4, writeQueueNums: 4, order: true)
        #expect(config.jsonText == """
            {"order":true,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest",\
            "topicSysFlag":0,"writeQueueNums":4}
            """)
        #expect(try TopicConfig(jsonText: config.jsonText) == config)
        let defaulted = try TopicConfig(jsonText: #"{"topicName":"T","topicFilterType":1}"#)
        #expect(defaulted == TopicConfig(topicName: "T", readQueueNums: 16, writeQueueNums: 16, topicFilterType: .multiTag))
        #expect(config.compactText == "TopicTest 4 4 6 SINGLE_TAG")
        #expect(try TopicConfig(compactText: "TopicTest 4 4 6 SINGLE_TAG") == TopicConfig(topicName: "TopicTest", readQueueNums: 4, writeQueueNums: 4))
        // Java 5 appends an attributes field, ignored here.
        #expect(try TopicConfig(compactText: "T 1 2 7 SINGLE_TAG {\"+a\":\"b\"}").perm.rawValue == 7)
        for bad in ["", "T 1 2 6", "T x 2 6 SINGLE_TAG", " 1 2 6 SINGLE_TAG", "T 1 2 6 NO_SUCH_TYPE"] {
            #expect(coreErrorCode { _ = try TopicConfig(compactText: bad) } == .invalidJSONField, "\(bad)")
        }
        #expect(coreErrorCode { _ = try TopicConfig(jsonText: #"{"perm":6}"#) } == .invalidJSONField)
    }

    @Test("permission bits and their Java text")
    func permissions() {
        #expect(Permission.readWrite.rawValue == 6)
        #expect([Permission.priority, .read, .write, .inherit].map(\.rawValue) == [8, 4, 2, 1])
        #expect(Permission.readWrite.description == "RW-")
        #expect(Permission(rawValue: 7).description == "RWX")
        #expect(Permission(rawValue: 4).isWritable == false)
        #expect(Permission(rawValue: 6).subtracting(.write) == .read)
    }

    @Test("a Java broker's plain registration body decodes; table keys stand in for missing names")
    func registerBrokerBodyPlain() throws {
        let text = """
            {"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"stateVersion":0,\
            "timestamp":1700000000000},"topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,\
            "topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4},\
            "TBW102":{"perm":7,"readQueueNums":8,"writeQueueNums":8}}}}
            """
        let body = try RegisterBrokerBody(jsonText: text)
        #expect(body.dataVersion == DataVersion(counter: 3, timestamp: 1_700_000_000_000))
        #expect(body.filterServerList.isEmpty)
        #expect(body.topicConfigTable["TopicTest"] == TopicConfig(topicName: "TopicTest", readQueueNums: 4, writeQueueNums: 4))
        #expect(body.topicConfigTable["TBW102"] == TopicConfig(topicName: "TBW102", readQueueNums: 8, writeQueueNums: 8, perm: Permission(rawValue: 7)))
        #expect(try RegisterBrokerBody(body: body.jsonBytes(), compressed: false) == body)
        #expect(try RegisterBrokerBody(jsonText: "{}") == RegisterBrokerBody())
    }

    @Test("data versions: JSON, numbers as strings, next version")
    func dataVersion() throws {
        let version = DataVersion(counter: 9_007_199_254_740_993, timestamp: 1_700_000_000_000)
        #expect(version.jsonText == #"{"counter":9007199254740993,"timestamp":1700000000000}"#)
        #expect(try DataVersion(jsonText: version.jsonText) == version)
        #expect(try DataVersion(jsonText: #"{"counter":"5","timestamp":"6"}"#) == DataVersion(counter: 5, timestamp: 6))
        #expect(version.next(now: 42) == DataVersion(counter: 9_007_199_254_740_994, timestamp: 42))
    }

    @Test("wrong shapes fail with invalidJSONField, never a crash")
    func wrongShapes() {
        let cases: [(String, (String) throws(CoreError) -> Void)] = [
            (#"[]"#, { text throws(CoreError) in _ = try TopicRouteData(jsonText: text) }),
            (#"{"queueDatas":"x"}"#, { text throws(CoreError) in _ = try TopicRouteData(jsonText: text) }),
            (#"{"queueDatas":[{"perm":6}]}"#, { text throws(CoreError) in _ = try TopicRouteData(jsonText: text) }),
            (#"{"queueDatas":[{"brokerName":"a","perm":"six"}]}"#, { text throws(CoreError) in _ = try TopicRouteData(jsonText: text) }),
            (#"{"queueDatas":[{"brokerName":"a","perm":4294967296}]}"#, { text throws(CoreError) in _ = try TopicRouteData(jsonText: text) }),
            (#"{"brokerName":"a","brokerAddrs":{"master":"x:1"}}"#, { text throws(CoreError) in _ = try BrokerData(jsonText: text) }),
            (#"{"brokerName":"a","brokerAddrs":{"0":["x"]}}"#, { text throws(CoreError) in _ = try BrokerData(jsonText: text) }),
            (#"{"clusterAddrTable":{"C":"a"}}"#, { text throws(CoreError) in _ = try ClusterInfo(jsonText: text) }),
            (#"{"filterServerTable":{"a":"b"}}"#, { text throws(CoreError) in _ = try TopicRouteData(jsonText: text) }),
            (#"{"table":{"k":{}}}"#, { text throws(CoreError) in _ = try KVTable(jsonText: text) }),
            (#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":7}}}"#, { text throws(CoreError) in _ = try RegisterBrokerBody(jsonText: text) }),
        ]
        for (text, decode) in cases {
            #expect(coreErrorCode { try decode(text) } == .invalidJSONField, "\(text)")
        }
        #expect(coreErrorCode { _ = try TopicRouteData(jsonText: "{\"queueDatas\":[") } == .malformedJSON)
    }
}
