import PetrelCore
import Testing

@Suite("Message hosts")
struct MessageHostTests {
    @Test("parses a.b.c.d:port")
    func parses() throws {
        let host = try #require(MessageHost("10.0.0.7:50000"))
        #expect(host.address == 0x0A00_0007)
        #expect(host.port == 50000)
        #expect(host.addressText == "10.0.0.7")
        #expect(host.description == "10.0.0.7:50000")
        #expect(MessageHost("255.255.255.255:65535") == MessageHost(address: .max, port: 65535))
        #expect(MessageHost("0.0.0.0:0") == .unspecified)
        #expect(MessageHost(ipv4: "127.0.0.1", port: 9876) == MessageHost(address: 0x7F00_0001, port: 9876))
    }

    @Test("description parses back", arguments: ["1.2.3.4:5", "192.168.100.200:10911", "0.0.0.0:0"])
    func descriptionRoundTrip(text: String) throws {
        let host = try #require(MessageHost(text))
        #expect(host.description == text)
        #expect(MessageHost(host.description) == host)
    }

    @Test("rejects malformed text", arguments: [
        "10.0.0:1", "a.b.c.d:1", "10.0.0.256:1", "10.0.0.7", "10.0.0.7:", ":1", "", "10.0.0.7:x",
        "10.0.0.0.7:1", "10..0.7:1", "10.0.0.-1:1", "::1:9876",
        "10.0.0.+7:1", "10.0.0.7:+1", "10.0.0.7:-1", "10.0.0.7:65536", " 10.0.0.7:1",
    ])
    func rejects(text: String) {
        #expect(MessageHost(text) == nil)
    }
}
