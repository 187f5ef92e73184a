import Foundation
import Testing

/// The module layout rules (DEVELOPERS.md's layout table) and a checker for them.
///
/// Every `.swift` file under `Sources/<Target>/` is scanned for `import` declarations; each imported
/// module must be allowed for that target by the tables below. A module that appears in no table is a
/// failure too, so a new dependency is a deliberate edit here, with its reason beside it.
enum ImportLayout {
    /// Project targets and the project modules each may import. `petrel-*` executables may import any.
    static let projectRules: [String: Set<String>] = [
        "PetrelCore": [],
        "PetrelStore": ["PetrelCore"],
        "PetrelRemoting": ["PetrelCore"],
        "PetrelPluginHost": ["PetrelCore", "CPetrel"],
        "PetrelNameServer": ["PetrelCore", "PetrelRemoting"],
        "PetrelBroker": ["PetrelCore", "PetrelStore", "PetrelRemoting", "PetrelPluginHost"],
        "PetrelClient": ["PetrelCore", "PetrelRemoting", "PetrelPluginHost"],
        "CPetrel": [],
        // The C API wraps the client; PetrelCore is needed for the message types it converts.
        "PetrelC": ["PetrelClient", "CPetrel", "PetrelCore"],
    ]

    /// Directory-name prefix of executable targets.
    static let executablePrefix = "petrel-"

    /// Every project module name (what an executable may import freely).
    static let projectModules = Set(projectRules.keys)

    /// Modules any target may import.
    static let allowedEverywhere: Set<String> = [
        // The standard library's own modules, imported implicitly anyway.
        "Swift", "_Concurrency", "_StringProcessing",
        // Platform and toolchain libraries.
        "Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization",
        // Logging and service lifecycle are how every component reports and starts/stops.
        "Logging", "ServiceLifecycle",
        // Atomics for lock-free counters.
        "Atomics",
        // ByteBuffer and the event-loop abstractions are the project's common currency.
        "NIOCore",
    ]

    /// Networking runtime modules: only the targets that open sockets, and executables.
    static let networkingModules: Set<String> = ["NIOPosix", "NIOExtras", "NIOConcurrencyHelpers", "NIOFoundationCompat"]
    /// Targets that may import `networkingModules` (besides executables).
    static let networkingTargets: Set<String> = ["PetrelRemoting", "PetrelBroker", "PetrelNameServer", "PetrelClient"]

    /// Command-line parsing: executables only.
    static let executableOnlyModules: Set<String> = ["ArgumentParser"]

    /// One rule broken.
    struct Violation: CustomStringConvertible, Equatable {
        /// File the import is in, as given to the checker.
        var file: String
        /// 1-based line of the import, nil for a whole-target problem.
        var line: Int?
        /// The target directory name.
        var target: String
        /// The imported module, nil for a whole-target problem.
        var module: String?
        /// Why it is not allowed.
        var reason: String

        var description: String {
            let place = line.map { "\(file):\($0)" } ?? file
            if let module { return "\(place): \(target) imports \(module): \(reason)" }
            return "\(place): \(reason)"
        }
    }

    /// One import declaration found in a source.
    struct Import: Equatable {
        /// 1-based line.
        var line: Int
        /// The top-level module (`import struct A.B` → `A`).
        var module: String
    }

    /// True for a `petrel-*` executable target directory.
    static func isExecutable(_ target: String) -> Bool { target.hasPrefix(executablePrefix) }

    /// Why `target` may not exist, or nil when it is in the table.
    static func targetProblem(_ target: String) -> String? {
        if isExecutable(target) || projectRules[target] != nil { return nil }
        return "target \(target) is not in the layout table; add it with the modules it may import"
    }

    /// Why `target` may not import `module`, or nil when it may.
    static func importProblem(target: String, module: String) -> String? {
        let executable = isExecutable(target)
        if module == target { return nil }
        if projectModules.contains(module) {
            if executable || projectRules[target]?.contains(module) == true { return nil }
            let allowed = projectRules[target]?.sorted().joined(separator: ", ") ?? ""
            return "project module not allowed here (allowed: \(allowed.isEmpty ? "none" : allowed))"
        }
        if allowedEverywhere.contains(module) { return nil }
        if networkingModules.contains(module) {
            if executable || networkingTargets.contains(target) { return nil }
            return "networking module allowed only in \(networkingTargets.sorted().joined(separator: ", ")) and executables"
        }
        if executableOnlyModules.contains(module) {
            return executable ? nil : "allowed only in petrel-* executables"
        }
        return "unknown module; add it to the layout table with a reason"
    }

    /// Every rule `source` (the text of one file of `target`) breaks.
    static func violations(target: String, source: String, file: String = "<memory>") -> [Violation] {
        var found: [Violation] = []
        if let problem = targetProblem(target) {
            found.append(Violation(file: file, line: nil, target: target, module: nil, reason: problem))
        }
        for entry in imports(in: source) {
            if let problem = importProblem(target: target, module: entry.module) {
                found.append(Violation(file: file, line: entry.line, target: target, module: entry.module, reason: problem))
            }
        }
        return found
    }

    /// Words that may precede `import` in a declaration.
    private static let modifiers: Set<Substring> = ["public", "package", "internal", "fileprivate", "private", "open"]
    /// Kinds of a scoped import (`import struct A.B`).
    private static let importKinds: Set<Substring> = ["typealias", "struct", "class", "enum", "protocol", "let", "var", "func"]

    /// The import declarations of `source`, ignoring comments and string literals.
    static func imports(in source: String) -> [Import] {
        var result: [Import] = []
        for (index, line) in codeOnly(source).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            for statement in line.split(separator: ";") {
                var tokens = statement.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })[...]
                while let first = tokens.first, first.hasPrefix("@") || modifiers.contains(first) {
                    tokens = tokens.dropFirst()
                }
                guard tokens.first == "import" else { continue }
                tokens = tokens.dropFirst()
                if let kind = tokens.first, importKinds.contains(kind) { tokens = tokens.dropFirst() }
                guard let path = tokens.first, let module = path.split(separator: ".").first, !module.isEmpty else {
                    continue
                }
                result.append(Import(line: index + 1, module: String(module)))
            }
        }
        return result
    }

    /// `source` with comments and string-literal contents blanked out; newlines are kept so line
    /// numbers still match.
    static func codeOnly(_ source: String) -> String {
        enum State { case code, lineComment, blockComment(depth: Int), string(hashes: Int, multiline: Bool) }
        let characters = Array(source.unicodeScalars)
        var output = String.UnicodeScalarView()
        var state = State.code
        var index = 0

        func at(_ offset: Int, is text: String) -> Bool {
            var position = index + offset
            for scalar in text.unicodeScalars {
                guard position < characters.count, characters[position] == scalar else { return false }
                position += 1
            }
            return true
        }
        func hashes(from position: Int) -> Int {
            var count = 0
            while position + count < characters.count, characters[position + count] == "#" { count += 1 }
            return count
        }
        func emit(_ scalar: Unicode.Scalar, blank: Bool) {
            output.append(scalar == "\n" ? "\n" : (blank ? " " : scalar))
        }

        while index < characters.count {
            let scalar = characters[index]
            switch state {
            case .code:
                if at(0, is: "//") {
                    state = .lineComment
                    emit(scalar, blank: true)
                    index += 1
                } else if at(0, is: "/*") {
                    state = .blockComment(depth: 1)
                    emit(" ", blank: true); emit(" ", blank: true)
                    index += 2
                } else if scalar == "#" || scalar == "\"" {
                    let count = hashes(from: index)
                    if at(count, is: "\"") {
                        let multiline = at(count, is: "\"\"\"")
                        let opener = count + (multiline ? 3 : 1)
                        for _ in 0..<opener { emit(" ", blank: true) }
                        index += opener
                        state = .string(hashes: count, multiline: multiline)
                    } else {
                        emit(scalar, blank: false)
                        index += 1
                    }
                } else {
                    emit(scalar, blank: false)
                    index += 1
                }
            case .lineComment:
                if scalar == "\n" { state = .code }
                emit(scalar, blank: true)
                index += 1
            case .blockComment(let depth):
                if at(0, is: "*/") {
                    state = depth == 1 ? .code : .blockComment(depth: depth - 1)
                    emit(" ", blank: true); emit(" ", blank: true)
                    index += 2
                } else if at(0, is: "/*") {
                    state = .blockComment(depth: depth + 1)
                    emit(" ", blank: true); emit(" ", blank: true)
                    index += 2
                } else {
                    emit(scalar, blank: true)
                    index += 1
                }
            case .string(let count, let multiline):
                let closer = (multiline ? "\"\"\"" : "\"") + String(repeating: "#", count: count)
                if count == 0, scalar == "\\", index + 1 < characters.count, characters[index + 1] != "\n" {
                    emit(" ", blank: true); emit(" ", blank: true)
                    index += 2
                } else if at(0, is: closer) {
                    for _ in closer.unicodeScalars { emit(" ", blank: true) }
                    index += closer.unicodeScalars.count
                    state = .code
                } else {
                    // A single-line string cannot cross a newline; recover there if the scan went wrong.
                    if scalar == "\n", !multiline { state = .code }
                    emit(scalar, blank: true)
                    index += 1
                }
            }
        }
        return String(output)
    }
}

/// The package root: the nearest directory above this file that holds Package.swift.
private func packageRoot() throws -> URL {
    var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while directory.path != "/" {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            return directory
        }
        directory.deleteLastPathComponent()
    }
    throw LayoutTestError.noPackageRoot(#filePath)
}

private enum LayoutTestError: Error { case noPackageRoot(String) }

/// Every `.swift` file below `directory`, sorted, as paths relative to `root`.
private func swiftFiles(in directory: URL, relativeTo root: URL) -> [String] {
    guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
    var files: [String] = []
    for case let url as URL in enumerator where url.pathExtension == "swift" {
        let path = url.standardizedFileURL.path
        let rootPath = root.standardizedFileURL.path + "/"
        files.append(path.hasPrefix(rootPath) ? String(path.dropFirst(rootPath.count)) : path)
    }
    return files.sorted()
}

@Suite("Module layout")
struct ImportLayoutTests {
    @Test("every target imports only the modules the layout table allows it")
    func sourcesFollowTheLayout() throws {
        let root = try packageRoot()
        let sources = root.appendingPathComponent("Sources")
        let targets = try FileManager.default.contentsOfDirectory(atPath: sources.path)
            .filter { name in
                var isDirectory: ObjCBool = false
                return !name.hasPrefix(".")
                    && FileManager.default.fileExists(atPath: sources.appendingPathComponent(name).path, isDirectory: &isDirectory)
                    && isDirectory.boolValue
            }
            .sorted()
        #expect(targets.contains("PetrelCore"), "Sources/PetrelCore not found under \(root.path)")

        var scanned = 0
        for target in targets {
            if let problem = ImportLayout.targetProblem(target) {
                Issue.record("Sources/\(target): \(problem)")
            }
            for file in swiftFiles(in: sources.appendingPathComponent(target), relativeTo: root) {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                scanned += 1
                for violation in ImportLayout.violations(target: target, source: text, file: file) where violation.line != nil {
                    Issue.record("\(violation)")
                }
            }
        }
        #expect(scanned > 0, "no Swift sources found under \(sources.path)")
    }

    @Test("the checker reports a forbidden project import")
    func checkerCatchesForbiddenImport() {
        let violations = ImportLayout.violations(target: "PetrelRemoting", source: "import PetrelStore\n", file: "Example.swift")
        #expect(violations == [
            ImportLayout.Violation(
                file: "Example.swift", line: 1, target: "PetrelRemoting", module: "PetrelStore",
                reason: "project module not allowed here (allowed: PetrelCore)"),
        ])
        #expect(violations.first?.description.hasPrefix("Example.swift:1: PetrelRemoting imports PetrelStore") == true)
    }

    @Test("the checker finds every import form, with its line", arguments: [
        ("PetrelCore", "@testable import PetrelStore", "PetrelStore"),
        ("PetrelCore", "@preconcurrency import PetrelRemoting", "PetrelRemoting"),
        ("PetrelRemoting", "import struct PetrelStore.CommitLog", "PetrelStore"),
        ("PetrelRemoting", "import func PetrelStore.open", "PetrelStore"),
        ("PetrelStore", "public import PetrelBroker", "PetrelBroker"),
        ("PetrelStore", "@_spi(Internal) package import PetrelClient", "PetrelClient"),
        ("PetrelStore", "  import PetrelRemoting.Sub   ", "PetrelRemoting"),
        ("PetrelCore", "let x = 1; import PetrelStore", "PetrelStore"),
        ("PetrelCore", "@preconcurrency import NIOPosix", "NIOPosix"),
        ("PetrelStore", "import ArgumentParser", "ArgumentParser"),
        ("PetrelBroker", "import Alamofire", "Alamofire"),
        ("PetrelPluginHost", "import PetrelStore", "PetrelStore"),
        ("PetrelNameServer", "import PetrelStore", "PetrelStore"),
        ("PetrelClient", "import PetrelBroker", "PetrelBroker"),
        ("PetrelC", "import PetrelRemoting", "PetrelRemoting"),
    ])
    func checkerFindsForbiddenForms(target: String, line: String, module: String) {
        let source = "// header\n\n\(line)\n"
        let violations = ImportLayout.violations(target: target, source: source)
        #expect(violations.count == 1)
        #expect(violations.first?.module == module)
        #expect(violations.first?.line == 3)
    }

    @Test("the checker allows what the table allows", arguments: [
        ("PetrelCore", "import NIOCore\nimport Foundation\nimport Synchronization"),
        ("PetrelCore", "#if canImport(Glibc)\nimport Glibc\n#elseif canImport(Darwin)\nimport Darwin\n#endif"),
        ("PetrelStore", "import PetrelCore\nimport Logging\nimport ServiceLifecycle\nimport Atomics"),
        ("PetrelRemoting", "import PetrelCore\nimport NIOPosix\nimport NIOExtras\nimport NIOConcurrencyHelpers"),
        ("PetrelPluginHost", "import CPetrel\nimport PetrelCore"),
        ("PetrelNameServer", "import PetrelRemoting\nimport NIOFoundationCompat"),
        ("PetrelBroker", "import PetrelStore\nimport PetrelRemoting\nimport PetrelPluginHost\nimport NIOPosix"),
        ("PetrelClient", "import PetrelPluginHost\nimport PetrelRemoting"),
        ("PetrelC", "import PetrelClient\nimport CPetrel\nimport PetrelCore"),
        ("petrel-bench", "import PetrelStore\nimport ArgumentParser\nimport NIOPosix"),
        ("petrel-broker", "import PetrelBroker\nimport PetrelNameServer\nimport PetrelC"),
    ])
    func checkerAllowsTable(target: String, source: String) {
        #expect(ImportLayout.violations(target: target, source: source).isEmpty)
    }

    @Test("imports inside comments and strings are ignored")
    func commentsAndStringsIgnored() {
        let source = #"""
            import Foundation // import PetrelStore
            // import PetrelStore
            /* import PetrelStore
               import PetrelBroker /* nested */ import PetrelClient
            */
            let text = "import PetrelStore"
            let escaped = "quote \" import PetrelStore"
            let raw = #"import PetrelStore "quoted" still raw"#
            let block = """
                import PetrelStore
                """
            import NIOCore
            """#
        let found = ImportLayout.imports(in: source)
        #expect(found == [ImportLayout.Import(line: 1, module: "Foundation"), ImportLayout.Import(line: 12, module: "NIOCore")])
        #expect(ImportLayout.violations(target: "PetrelCore", source: source).isEmpty)
    }

    @Test("an unknown target directory is a failure")
    func unknownTarget() {
        #expect(ImportLayout.targetProblem("Mystery") != nil)
        #expect(ImportLayout.targetProblem("petrel-anything") == nil)
        #expect(ImportLayout.targetProblem("PetrelCore") == nil)
        let violations = ImportLayout.violations(target: "Mystery", source: "import Foundation")
        #expect(violations.count == 1)
        #expect(violations.first?.line == nil)
    }

    @Test("an unknown module asks for a table entry")
    func unknownModuleMessage() {
        let violations = ImportLayout.violations(target: "PetrelCore", source: "import Yams")
        #expect(violations.first?.reason == "unknown module; add it to the layout table with a reason")
    }
}
