/// An IPv4 address and port as stored in a message's BORNHOST / STOREHOST fields (8 bytes).
/// Petrel always stores IPv4 hosts: the C++ 1.2.3 decoder ignores the IPv6 sysFlag bits and
/// would misread a 20-byte host (spec §10.1), so IPv6 peers are mapped to a placeholder upstream.
public struct MessageHost: Hashable, Sendable, CustomStringConvertible {
    /// The address as four octets, most significant first (127.0.0.1 → 0x7F000001).
    public var address: UInt32
    /// The TCP port.
    public var port: Int32

    /// Creates a host from a packed address and a port.
    public init(address: UInt32, port: Int32) {
        self.address = address
        self.port = port
    }

    /// Parses dotted-quad `a.b.c.d` and a port; nil when the text is not an IPv4 address.
    public init?(ipv4 text: String, port: Int32) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var packed: UInt32 = 0
        for part in parts {
            // Digits only: `UInt8(_:)` alone would also take "+7" or "-0".
            guard part.utf8.allSatisfy({ (48...57).contains($0) }), let octet = UInt8(part) else { return nil }
            packed = packed << 8 | UInt32(octet)
        }
        self.init(address: packed, port: port)
    }

    /// Parses `a.b.c.d:port`; nil when malformed or the port is not a decimal in 0...65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let portText = text[text.index(after: colon)...]
        guard portText.utf8.allSatisfy({ (48...57).contains($0) }), let port = Int32(portText), port <= 65535 else {
            return nil
        }
        self.init(ipv4: String(text[..<colon]), port: port)
    }

    /// 0.0.0.0:0, used where no host is known.
    public static let unspecified = MessageHost(address: 0, port: 0)

    /// The dotted-quad address without the port.
    public var addressText: String {
        "\(address >> 24).\((address >> 16) & 0xFF).\((address >> 8) & 0xFF).\(address & 0xFF)"
    }

    /// `a.b.c.d:port`.
    public var description: String { "\(addressText):\(port)" }
}
