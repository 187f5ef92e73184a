import PetrelCore
import Testing

@Suite("Message sys flag (spec §10.3)")
struct MessageSysFlagTests {
    @Test("transaction state is read from and written to bits 2–3 only")
    func transactionBits() {
        var flag: MessageSysFlag = [.compressed, .multiTags]
        #expect(flag.transaction == .notTransaction)
        flag.transaction = .prepared
        #expect(flag.rawValue == 0x7)
        #expect(flag.transaction == .prepared)
        flag.transaction = .commit
        #expect(flag.rawValue == 0xB)
        flag.transaction = .rollback
        #expect(flag.rawValue == 0xF)
        #expect(flag.transaction == .rollback)
        flag.transaction = .notTransaction
        #expect(flag == [.compressed, .multiTags])
        #expect(MessageSysFlag(rawValue: 0x8).transaction == .commit)
        #expect(MessageSysFlag(rawValue: 0x4 | 0x200 | 0x1).transaction == .prepared)
    }

    @Test("compression type set and get")
    func compressionType() {
        var flag = MessageSysFlag()
        #expect(flag.compression == nil)
        flag.compression = .zstd
        #expect(flag.rawValue == 0x201)
        #expect(flag.contains(.compressed))
        #expect(flag.compression == .zstd)
        flag.compression = .lz4
        #expect(flag.rawValue == 0x101)
        flag.compression = .zlib
        #expect(flag.rawValue == 0x301)
        flag.transaction = .commit
        flag.compression = nil
        #expect(flag.rawValue == 0x8)
        #expect(flag.compression == nil)
    }

    @Test("compressed with type bits 0 reads as zlib; type bits without the flag read as uncompressed")
    func legacyCompression() {
        #expect(MessageSysFlag(rawValue: 0x1).compression == .zlib)
        #expect(MessageSysFlag(rawValue: 0x200).compression == nil)
        #expect(MessageSysFlag(rawValue: 0x2 | 0x1 | 0x100).compression == .lz4)
    }

    @Test("host and tag bits have their spec values")
    func bitValues() {
        #expect(MessageSysFlag.compressed.rawValue == 0x1)
        #expect(MessageSysFlag.multiTags.rawValue == 0x2)
        #expect(MessageSysFlag.bornHostV6.rawValue == 0x10)
        #expect(MessageSysFlag.storeHostV6.rawValue == 0x20)
        #expect(CompressionType.zstd.rawValue == 0x200)
        #expect(CompressionType.lz4.rawValue == 0x100)
        #expect(CompressionType.zlib.rawValue == 0x300)
    }
}
