import Foundation
import Testing

/// compress-zstd's per-thread contexts when threads exit while their instance is destroyed, and
/// after the library is unloaded: Tests/PluginStress/zstd_thread_exit_stress.c forces the
/// interleaving (see its top comment). The plugin and the program are built with AddressSanitizer
/// here (a separate build from build/plugins), so a context freed twice or used after free fails the
/// run with ASan's report.
@Suite struct ZstdThreadExitStressTests {
    @Test func exitingThreadsAndDestroyNeverFreeAContextTwiceOrTouchFreedMemory() throws {
        let root = PluginBuild.packageRoot.path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-zstd-stress-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-fsanitize=address"]
        let plugin = try PluginBuild.run("/usr/bin/env", ["cc"] + flags + [
            "-shared", "-fPIC", "-o", directory + "/compress-zstd.so", root + "/plugins/compress-zstd.c", "-lzstd",
        ])
        #expect(plugin.status == 0, "\(plugin.text)")
        let program = try PluginBuild.run("/usr/bin/env", ["cc"] + flags + [
            "-rdynamic", "-o", directory + "/stress", root + "/Tests/PluginStress/zstd_thread_exit_stress.c", "-lpthread",
        ])
        #expect(program.status == 0, "\(program.text)")
        try #require(plugin.status == 0 && program.status == 0)
        let run = try PluginBuild.run(directory + "/stress", [directory + "/compress-zstd.so", "200"])
        #expect(run.status == 0, "\(run.text)")
        #expect(run.text.contains("200 rounds") && run.text.contains("clean"), "\(run.text)")
    }
}
