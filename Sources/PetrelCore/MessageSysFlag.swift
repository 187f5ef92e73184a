/// The SYSFLAG field of a stored message (spec §10.3).
public struct MessageSysFlag: OptionSet, Hashable, Sendable {
    /// The raw 32-bit flag word as stored.
    public var rawValue: Int32

    /// Wraps a raw flag word.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The body is compressed; the algorithm is in bits 8–10 (0 means zlib, for old senders).
    public static let compressed = MessageSysFlag(rawValue: 0x1)
    /// The message carries several tags.
    public static let multiTags = MessageSysFlag(rawValue: 0x2)
    /// Born host is IPv6 (never written by Petrel; see `MessageHost`).
    public static let bornHostV6 = MessageSysFlag(rawValue: 0x10)
    /// Store host is IPv6 (never written by Petrel).
    public static let storeHostV6 = MessageSysFlag(rawValue: 0x20)

    /// Mask of the transaction bits (2–3).
    public static let transactionMask: Int32 = 0xC
    /// Mask of the compression-type bits (8–10).
    public static let compressionTypeMask: Int32 = 0x700

    /// The transaction state held in bits 2–3.
    public var transaction: TransactionState {
        get { TransactionState(rawValue: rawValue & Self.transactionMask) ?? .notTransaction }
        set { rawValue = (rawValue & ~Self.transactionMask) | newValue.rawValue }
    }

    /// The compression algorithm, or nil when the body is not compressed.
    public var compression: CompressionType? {
        get {
            guard contains(.compressed) else { return nil }
            return CompressionType(rawValue: rawValue & Self.compressionTypeMask) ?? .zlib
        }
        set {
            rawValue &= ~Self.compressionTypeMask
            if let newValue {
                insert(.compressed)
                rawValue |= newValue.rawValue
            } else {
                remove(.compressed)
            }
        }
    }
}

/// Transaction state bits of SYSFLAG. Prepared and rollback records are never dispatched to consume queues.
public enum TransactionState: Int32, Sendable {
    /// An ordinary message.
    case notTransaction = 0x0
    /// A half message awaiting commit or rollback.
    case prepared = 0x4
    /// The committed copy of a transactional message.
    case commit = 0x8
    /// A rollback marker.
    case rollback = 0xC
}

/// Compression algorithm held in SYSFLAG bits 8–10 (RocketMQ 4.9.8+ numbering).
public enum CompressionType: Int32, Sendable, CaseIterable {
    /// zlib; also what a compressed flag with type bits 0 means.
    case zlib = 0x300
    /// LZ4.
    case lz4 = 0x100
    /// zstd, the algorithm of Petrel's store-compression plugin.
    case zstd = 0x200
}
