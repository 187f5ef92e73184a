import Glibc

/// NUL-terminated copies of strings for the length of one plugin call, freed by the host that made
/// them (the ABI never lets one side free the other's memory).
final class CStringArray {
    /// The copies, in order.
    let pointers: [UnsafePointer<CChar>?]

    /// Copies `strings`.
    init(_ strings: [String]) {
        pointers = strings.map { UnsafePointer(strdup($0)) }
    }

    deinit {
        for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) }
    }
}
