import Foundation

/// One value in a report.
enum ReportValue {
    /// A whole number.
    case integer(Int)
    /// A real number printed with a fixed number of decimals.
    case decimal(Double, decimals: Int)
    /// Text.
    case text(String)

    /// The value as printed in the human-readable block and the RESULT line.
    var plainText: String {
        switch self {
        case .integer(let value): return String(value)
        case .decimal(let value, let decimals): return ReportValue.format(value, decimals: decimals)
        case .text(let value): return value
        }
    }

    /// The value as a JSON literal: numbers stay numbers, text is quoted and escaped.
    var jsonText: String {
        switch self {
        case .integer(let value):
            return String(value)
        case .decimal(let value, let decimals):
            // JSON has no NaN or infinity; a division by a zero duration must not break parsers.
            return value.isFinite ? ReportValue.format(value, decimals: decimals) : "null"
        case .text(let value):
            return ReportValue.jsonQuoted(value)
        }
    }

    /// `value` with `decimals` digits after the point, without locale-dependent separators.
    static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return String(value) }
        return String(format: "%.\(decimals)f", value)
    }

    /// `text` as a JSON string literal.
    static func jsonQuoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20:
                quoted += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

/// Where a report field is printed.
struct ReportOutputs: OptionSet {
    /// The raw bits.
    let rawValue: Int
    /// The human-readable block.
    static let human = ReportOutputs(rawValue: 1)
    /// The JSON object line (`--json`).
    static let json = ReportOutputs(rawValue: 2)
    /// The `RESULT key=value …` line that the peers' summary scripts read.
    static let result = ReportOutputs(rawValue: 4)
    /// All three.
    static let all: ReportOutputs = [.human, .json, .result]
}

/// One named measurement or setting in a report.
struct ReportField {
    /// The key in the JSON object and the RESULT line.
    let key: String
    /// The label in the human-readable block.
    let label: String
    /// The unit shown after the value in the human-readable block ("" for none).
    let unit: String
    /// The value.
    let value: ReportValue
    /// Where the field appears: the JSON object has a fixed key set, the other outputs may carry more.
    let outputs: ReportOutputs

    /// Creates a field.
    init(_ key: String, label: String, unit: String = "", _ value: ReportValue, outputs: ReportOutputs = .all) {
        self.key = key
        self.label = label
        self.unit = unit
        self.value = value
        self.outputs = outputs
    }
}

/// A workload's results, rendered three ways from one ordered field list so the outputs cannot
/// disagree. Every subcommand builds one and calls `print(json:)`.
struct BenchReport {
    /// The workload name in the RESULT line, e.g. `store-async`.
    let workload: String
    /// The title line of the human-readable block.
    let title: String
    /// The fields, in print order.
    let fields: [ReportField]

    /// A block of aligned `label: value unit` lines under the title.
    var humanReadable: String {
        let shown = fields.filter { $0.outputs.contains(.human) }
        let width = shown.map(\.label.count).max() ?? 0
        var lines = [title]
        for field in shown {
            let padding = String(repeating: " ", count: width - field.label.count)
            let unit = field.unit.isEmpty ? "" : " " + field.unit
            lines.append("  \(field.label):\(padding) \(field.value.plainText)\(unit)")
        }
        return lines.joined(separator: "\n")
    }

    /// `RESULT workload=<name> key=value …`, one line, the peers' result style.
    var resultLine: String {
        let pairs = fields.filter { $0.outputs.contains(.result) }.map { "\($0.key)=\($0.value.plainText)" }
        return (["RESULT", "workload=\(workload)"] + pairs).joined(separator: " ")
    }

    /// One JSON object on one line, keys in field order.
    var jsonLine: String {
        let members = fields.filter { $0.outputs.contains(.json) }.map {
            "\(ReportValue.jsonQuoted($0.key)):\($0.value.jsonText)"
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Prints the JSON line alone, or the human-readable block followed by the RESULT line.
    func print(json: Bool) {
        if json {
            Swift.print(jsonLine)
        } else {
            Swift.print(humanReadable)
            Swift.print(resultLine)
        }
    }
}
