import CPetrel
import Testing

/// The ABI's struct layouts on LP64 Linux (x86-64, aarch64), pinned: a header edit that moves a
/// field breaks every plugin already built, so it must fail here first. Appending fields changes
/// only the sizes, and then this test is updated together with PETREL_PLUGIN_ABI_MINOR.
///
/// ```
/// petrel_plugin_descriptor (48 bytes)
/// +0 size u32 | +4 abi_major u16 | +6 abi_minor u16 | +8 kind i32 | +12 pad
/// +16 name | +24 init | +32 destroy | +40 functions
///
/// petrel_compressor_functions (72 bytes; ABI 1.0 ended at 32)
/// +0 size u32 | +4 pad | +8 compress_bound | +16 compress | +24 decompress
/// 1.1: +32 prepare_dictionary | +40 release_dictionary | +48 compress_prepared
///      +56 decompress_prepared | +64 train_dictionary
/// ```
@Suite struct ABILayoutTests {
    /// Sizes of every ABI struct.
    @Test func sizes() {
        #expect(PETREL_PLUGIN_ABI_MAJOR == 1)
        #expect(PETREL_PLUGIN_ABI_MINOR == 1)
        #expect(MemoryLayout<petrel_plugin_descriptor>.size == 48)
        #expect(MemoryLayout<petrel_plugin_error>.size == 260)
        #expect(MemoryLayout<petrel_plugin_host>.size == 24)
        #expect(MemoryLayout<petrel_plugin_message>.size == 48)
        #expect(MemoryLayout<petrel_selector_argument>.size == 24)
        #expect(MemoryLayout<petrel_selector_functions>.size == 16)
        #expect(MemoryLayout<petrel_plugin_queue>.size == 24)
        #expect(MemoryLayout<petrel_allocator_functions>.size == 16)
        #expect(MemoryLayout<petrel_compression_options>.size == 24)
        #expect(MemoryLayout<petrel_compressor_functions>.size == 72, "ABI 1.0's 32 bytes plus 1.1's five functions")
    }

    /// Offsets of the fields the host reads by position.
    @Test func offsets() {
        #expect(MemoryLayout<petrel_plugin_descriptor>.offset(of: \.abi_major) == 4)
        #expect(MemoryLayout<petrel_plugin_descriptor>.offset(of: \.kind) == 8)
        #expect(MemoryLayout<petrel_plugin_descriptor>.offset(of: \.name) == 16)
        #expect(MemoryLayout<petrel_plugin_descriptor>.offset(of: \.`init`) == 24)
        #expect(MemoryLayout<petrel_plugin_descriptor>.offset(of: \.destroy) == 32)
        #expect(MemoryLayout<petrel_plugin_descriptor>.offset(of: \.functions) == 40)
        #expect(MemoryLayout<petrel_plugin_host>.offset(of: \.log) == 16)
        #expect(MemoryLayout<petrel_plugin_message>.offset(of: \.body) == 32)
        #expect(MemoryLayout<petrel_selector_argument>.offset(of: \.integer) == 8)
        #expect(MemoryLayout<petrel_compressor_functions>.offset(of: \.decompress) == 24)
        // ABI 1.1, appended after 1.0's table (which ended at 32).
        #expect(MemoryLayout<petrel_compressor_functions>.offset(of: \.prepare_dictionary) == 32)
        #expect(MemoryLayout<petrel_compressor_functions>.offset(of: \.release_dictionary) == 40)
        #expect(MemoryLayout<petrel_compressor_functions>.offset(of: \.compress_prepared) == 48)
        #expect(MemoryLayout<petrel_compressor_functions>.offset(of: \.decompress_prepared) == 56)
        #expect(MemoryLayout<petrel_compressor_functions>.offset(of: \.train_dictionary) == 64)
    }
}
