import PetrelBroker
import PetrelStore
import Testing

/// `broker.conf` parsing: RocketMQ key names, aliases, clear errors.
@Suite struct ConfigurationTests {
    @Test func rocketMQBrokerConfAppliesEveryKey() throws {
        let text = """
        # a broker.conf as RocketMQ ships it
        brokerClusterName = ClusterX
        brokerName=broker-b
        brokerId=0
        listenPort=20911
        namesrvAddr=127.0.0.1:9876;127.0.0.1:9877
        storePathRootDir=/tmp/petrel-conf-test
        mapedFileSizeCommitLog=67108864
        flushDiskType=SYNC_FLUSH
        brokerRole=ASYNC_MASTER
        autoCreateTopicEnable=false
        deleteWhen=04;16
        fileReservedTime=48
        messageDelayLevel=1s 5s 10s 1m 2h
        maxMessageSize=1048576
        brokerIP1=10.0.0.5
        defaultTopicQueueNums=4
        """
        var configuration = BrokerConfiguration(storeRoot: "/nowhere")
        try BrokerConfigurationKeys.apply(BrokerConfigurationKeys.parseProperties(text), to: &configuration)
        #expect(configuration.brokerClusterName == "ClusterX")
        #expect(configuration.brokerName == "broker-b")
        #expect(configuration.listenPort == 20911)
        #expect(configuration.nameServerAddresses == ["127.0.0.1:9876", "127.0.0.1:9877"])
        #expect(configuration.store.rootDirectory == "/tmp/petrel-conf-test")
        #expect(configuration.store.commitLogDirectory == "/tmp/petrel-conf-test/commitlog")
        #expect(configuration.store.commitLogSegmentSize == 67_108_864)
        #expect(configuration.store.flushMode == .sync)
        #expect(configuration.autoCreateTopicEnable == false)
        #expect(configuration.store.deleteWhenHours == [4, 16])
        #expect(configuration.store.fileReservedTime == .seconds(48 * 3600))
        #expect(configuration.messageDelayLevels == [.seconds(1), .seconds(5), .seconds(10), .seconds(60), .seconds(7200)])
        #expect(configuration.store.maximumMessageSize == 1_048_576)
        #expect(configuration.brokerAddress == "10.0.0.5:20911")
        #expect(configuration.defaultTopicQueueNumbers == 4)
    }

    @Test func unknownKeyNamesItAndSuggestsTheClosest() {
        var configuration = BrokerConfiguration(storeRoot: "/nowhere")
        do {
            try BrokerConfigurationKeys.apply([("flushDiskTyp", "SYNC_FLUSH")], to: &configuration)
            Issue.record("unknown key accepted")
        } catch {
            #expect(error.code == .unknownConfigurationKey)
            #expect(error.message.contains("'flushDiskTyp'"))
            #expect(error.message.contains("did you mean 'flushDiskType'"))
        }
        #expect(BrokerConfigurationKeys.closestKey(to: "listenport") == "listenPort")
        #expect(BrokerConfigurationKeys.closestKey(to: "completelyUnrelatedSetting") == nil)
    }

    @Test func badValuesNameTheKeyAndWhatWasExpected() {
        let cases: [(String, String, String)] = [
            ("listenPort", "70000", "integer from 1 to 65535"), ("flushDiskType", "SOMETIMES", "ASYNC_FLUSH"),
            ("autoCreateTopicEnable", "yes", "true or false"), ("deleteWhen", "25", "hours"),
            ("messageDelayLevel", "1x", "durations"), ("brokerIP1", "localhost", "IPv4"), ("namesrvAddr", "nohost", "host:port"),
        ]
        for (key, value, expected) in cases {
            var configuration = BrokerConfiguration(storeRoot: "/nowhere")
            do {
                try BrokerConfigurationKeys.apply([(key, value)], to: &configuration)
                Issue.record("\(key)=\(value) accepted")
            } catch {
                #expect(error.code == .invalidConfigurationValue)
                #expect(error.message.contains(key))
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
        #expect(throws: BrokerError.self) { try BrokerConfigurationKeys.parseProperties("no separator here") }
    }

    @Test func explicitCommitLogDirectoryIsKept() throws {
        var configuration = BrokerConfiguration(storeRoot: "/nowhere")
        try BrokerConfigurationKeys.apply([("storePathCommitLog", "/data/log"), ("storePathRootDir", "/data/root")], to: &configuration)
        #expect(configuration.store.commitLogDirectory == "/data/log")
        #expect(configuration.store.rootDirectory == "/data/root")
    }
}
