import Foundation

/// Where the built plugins are: `$PETREL_PLUGIN_DIR` (the Makefile sets it after `make plugins`),
/// else `<package root>/build/plugins` after running `make plugins` once in this process, so a plain
/// `swift test` works too.
enum PluginBuild {
    /// The package root: the nearest directory above this file holding Package.swift.
    static let packageRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) { return directory }
            directory.deleteLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// The plugin directory, built on first use; throws the build's output when `make` fails.
    static func directory() throws -> String {
        try built.get()
    }

    /// The one build per process (a `static let` initialiser runs once, even under concurrent tests).
    private static let built: Result<String, PluginBuildError> = {
        if let configured = ProcessInfo.processInfo.environment["PETREL_PLUGIN_DIR"], !configured.isEmpty {
            return .success(configured)
        }
        do {
            let output = try run("/usr/bin/env", ["make", "-C", packageRoot.path, "plugins"])
            guard output.status == 0 else { return .failure(PluginBuildError("make plugins failed:\n\(output.text)")) }
        } catch {
            return .failure(PluginBuildError("make plugins could not start: \(error)"))
        }
        return .success(packageRoot.appendingPathComponent("build/plugins").path)
    }()

    /// The path of `<name>.so` in the plugin directory.
    static func path(_ name: String) throws -> String {
        try directory() + "/" + name + ".so"
    }

    /// Runs `executable` with `arguments`; its exit status and combined output.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A plugin build that failed, with its output.
struct PluginBuildError: Error, CustomStringConvertible {
    /// What happened.
    var description: String

    /// An error.
    init(_ description: String) { self.description = description }
}
