/// One topic subscription of a consumer group, as carried in heartbeats (spec §7).
///
/// JSON as Java writes it:
/// `{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"T"}`.
///
/// Decoding tolerates what C++ sends: `subVersion` as a string, no `expressionType`, no `tagsSet`
/// for `*`, and a garbage `codeSet` (`atoi(tag)` → zeros). The sender's `codeSet` is therefore never
/// read: `codeSet` is always the Java hash of each tag in `tagsSet`, and for a tag expression with
/// no `tagsSet` the tags are recomputed from `subString`.
public struct SubscriptionData: Hashable, Sendable, JSONConvertible {
    /// The expression that selects every tag.
    public static let subscribeAll = "*"
    /// `expressionType` of a tag expression (`TagA || TagB`).
    public static let tagExpressionType = "TAG"
    /// `expressionType` of an SQL92 property filter.
    public static let sql92ExpressionType = "SQL92"

    /// The subscribed topic.
    public var topic: String
    /// The expression as the application wrote it: `*`, `TagA || TagB`, or an SQL92 condition.
    public var subString: String
    /// The tags of a tag expression, without duplicates; empty for `*` and for SQL92.
    public var tagsSet: [String]
    /// When the subscription was made (ms); a pull with an older version is answered with SUBSCRIPTION_NOT_LATEST.
    public var subVersion: Int64
    /// Java class-filter mode (removed in later Java versions; never used by Petrel).
    public var classFilterMode: Bool
    /// `TAG` or `SQL92`.
    public var expressionType: String

    /// A subscription; for a tag expression the tags are parsed from `subString`.
    public init(
        topic: String, subString: String, expressionType: String = SubscriptionData.tagExpressionType,
        subVersion: Int64 = 0, classFilterMode: Bool = false
    ) {
        self.topic = topic
        self.subString = subString
        self.expressionType = expressionType
        self.subVersion = subVersion
        self.classFilterMode = classFilterMode
        self.tagsSet = Self.isTagExpression(expressionType) ? Self.tags(fromExpression: subString) : []
    }

    /// True when this subscription selects every message (`*` or an empty expression).
    public var subscribesAll: Bool {
        let trimmed = subString.javaTrimmed()
        return trimmed.isEmpty || trimmed == Self.subscribeAll
    }

    /// The Java `String.hashCode()` of each tag, without duplicates: what consume-queue tag codes are
    /// compared against.
    public var codeSet: [Int32] {
        var seen = Set<Int32>()
        return tagsSet.map(TagHash.javaStringHashCode).filter { seen.insert($0).inserted }
    }

    /// The tags of a tag expression, as Java's `FilterAPI.buildSubscriptionData` finds them: none for
    /// `""` or `*`; otherwise split on `||`, each trimmed (Java `trim()`), empties dropped.
    public static func tags(fromExpression expression: String) -> [String] {
        let trimmed = expression.javaTrimmed()
        if trimmed.isEmpty || trimmed == subscribeAll { return [] }
        let parts = expression.split(separator: "||", omittingEmptySubsequences: false)
        return unique(parts.map { String($0).javaTrimmed() }.filter { !$0.isEmpty })
    }

    /// True for `TAG`, and for a missing or empty type (C++ omits it; Java treats null as TAG).
    public static func isTagExpression(_ expressionType: String) -> Bool {
        expressionType.isEmpty || expressionType.uppercased() == tagExpressionType
    }

    /// Decodes a `SubscriptionData` object; `topic` is required. `codeSet` is ignored (see above).
    public init(json: JSONValue) throws(CoreError) {
        let reader = try JSONObjectReader(json, context: "SubscriptionData")
        let expressionType = try reader.string("expressionType") ?? Self.tagExpressionType
        self.init(
            topic: try reader.requiredString("topic"),
            subString: try reader.string("subString") ?? Self.subscribeAll,
            expressionType: expressionType.isEmpty ? Self.tagExpressionType : expressionType,
            subVersion: try reader.int64("subVersion") ?? 0,
            classFilterMode: try reader.bool("classFilterMode") ?? false)
        let sentTags = try reader.stringArray("tagsSet") ?? []
        if !sentTags.isEmpty { tagsSet = Self.unique(sentTags) }
    }

    /// The JSON object, with `codeSet` computed from `tagsSet`.
    public var json: JSONValue {
        .object([
            "topic": .string(topic),
            "subString": .string(subString),
            "tagsSet": .strings(tagsSet),
            "codeSet": .array(codeSet.map { .integer($0) }),
            "subVersion": .integer(subVersion),
            "classFilterMode": .bool(classFilterMode),
            "expressionType": .string(expressionType),
        ])
    }

    /// `values` without repeats, first occurrence kept (Java keeps tags in a set).
    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}

extension String {
    /// Java's `String.trim()`: drops leading and trailing characters at or below U+0020 (space and
    /// the ASCII controls), which is how RocketMQ trims tags.
    func javaTrimmed() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0.value > 0x20 }),
            let last = scalars.lastIndex(where: { $0.value > 0x20 })
        else { return "" }
        return String(scalars[first...last])
    }
}
