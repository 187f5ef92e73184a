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
    /// One pass over the UTF-8 without allocating: the broker parses every sender's address per send.
    public init?(_ text: String) {
        var text = text
        guard let host = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = host
    }

    /// `a.b.c.d:port` from its UTF-8 bytes: four decimal octets (0...255) separated by dots, a colon,
    /// and a decimal port (0...65535); digits only, so no signs or spaces.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> MessageHost? {
        var packed: UInt32 = 0
        var octets = 0
        var value: UInt32 = 0
        var digits = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard value <= 255 else { return nil }
            case UInt8(ascii: "."), UInt8(ascii: ":"):
                guard digits > 0 else { return nil }
                packed = packed << 8 | value
                octets += 1
                value = 0
                digits = 0
                if byte == UInt8(ascii: ":") {
                    guard octets == 4 else { return nil }
                    return parsePort(bytes[index...]).map { MessageHost(address: packed, port: $0) }
                }
                guard octets < 4 else { return nil }
            default:
                return nil
            }
        }
        return nil
    }

    /// A decimal port in 0...65535 made of digits only.
    private static func parsePort(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int32? {
        guard !bytes.isEmpty else { return nil }
        var port: Int32 = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            port = port * 10 + Int32(byte - UInt8(ascii: "0"))
            guard port <= 65535 else { return nil }
        }
        return port
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
