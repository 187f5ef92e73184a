/// Tag hashes as RocketMQ computes them: Java's `String.hashCode()` over the UTF-16 code units.
/// Consume-queue units carry this hash so the broker can filter by tag without reading the commit log.
public enum TagHash {
    /// Java `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping at 32 bits.
    public static func javaStringHashCode(_ string: String) -> Int32 {
        var hash: Int32 = 0
        for unit in string.utf16 {
            hash = hash &* 31 &+ Int32(unit)
        }
        return hash
    }

    /// The 8-byte tags code stored in a consume-queue unit: the hash widened to 64 bits, 0 when there is no tag.
    public static func tagsCode(_ tags: String?) -> Int64 {
        guard let tags, !tags.isEmpty else { return 0 }
        return Int64(javaStringHashCode(tags))
    }
}
