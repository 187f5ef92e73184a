import PetrelClient
import Testing

/// The module is linked into the test bundle and reports a semantic version.
@Suite struct ClientModuleTests {
    /// The version has three numeric components, as `petrel_version()` documents.
    @Test func versionIsSemantic() {
        let parts = PetrelClientModule.version.split(separator: ".")
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { Int($0) != nil })
    }
}
