import PetrelCore
import Testing

@Suite("Tag hash (Java String.hashCode)")
struct TagHashTests {
    @Test("known Java hash codes")
    func knownValues() {
        #expect(TagHash.javaStringHashCode("") == 0)
        #expect(TagHash.javaStringHashCode("a") == 97)
        // "hello".hashCode() == 99162322 in Java.
        #expect(TagHash.javaStringHashCode("hello") == 99_162_322)
        // The classic collision: both are 'A'*31 + 'a' == 'B'*31 + 'B' == 2112.
        #expect(TagHash.javaStringHashCode("Aa") == 2112)
        #expect(TagHash.javaStringHashCode("BB") == 2112)
        // Wrapping arithmetic: Java's famous "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        #expect(TagHash.javaStringHashCode("polygenelubricants") == Int32.min)
        #expect(TagHash.javaStringHashCode("Hello World") == -862_545_276)
    }

    @Test("TagA by the polynomial, worked out by hand")
    func tagAByFormula() {
        // 'T' = 84, 'a' = 97, 'g' = 103, 'A' = 65; 31^3 = 29791, 31^2 = 961.
        let expected: Int32 = 84 * 29791 + 97 * 961 + 103 * 31 + 65
        #expect(expected == 2_598_919)
        #expect(TagHash.javaStringHashCode("TagA") == expected)
        #expect(TagHash.tagsCode("TagA") == 2_598_919)
    }

    @Test("characters outside the BMP hash as their two UTF-16 surrogates")
    func surrogatePairs() {
        // U+1F600 is the surrogate pair D83D DE00: 0xD83D * 31 + 0xDE00 = 55357 * 31 + 56832 = 1772899.
        let expected: Int32 = 0xD83D * 31 + 0xDE00
        #expect(expected == 1_772_899)
        #expect(TagHash.javaStringHashCode("😀") == expected)
        // 'é' is one UTF-16 unit (0xE9) however it is spelled in Swift source, if precomposed.
        #expect(TagHash.javaStringHashCode("\u{E9}") == 0xE9)
    }

    @Test("tags code: 0 without a tag, the widened hash with one")
    func tagsCode() {
        #expect(TagHash.tagsCode(nil) == 0)
        #expect(TagHash.tagsCode("") == 0)
        #expect(TagHash.tagsCode("a") == 97)
        // Negative hashes are sign-extended, as Java widens an int to a long.
        #expect(TagHash.tagsCode("Hello World") == -862_545_276)
        #expect(TagHash.tagsCode("polygenelubricants") == Int64(Int32.min))
    }
}
