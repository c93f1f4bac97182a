import Foundation

/// A JSON value whose object keys keep their order, so each scenario's line reads the same way
/// every run.
indirect enum JSONLine: Sendable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case array([JSONLine])
    case object([(String, JSONLine)])

    var rendered: String {
        switch self {
        case .int(let value): return "\(value)"
        case .double(let value): return value.isFinite ? String(format: "%.3f", value) : "null"
        case .bool(let value): return value ? "true" : "false"
        case .string(let value):
            let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        case .array(let values): return "[" + values.map(\.rendered).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { JSONLine.string($0.0).rendered + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }
}

/// One line of the results table: a measured number next to the target it is judged against.
struct TableRow: Sendable {
    var scenario: String
    var metric: String
    var measured: String
    var target: String
    /// `nil` when the number has no target (shown for context).
    var met: Bool?
}

/// What a scenario prints: one JSON line for machines, a few lines for people, rows for the table.
struct ScenarioResult: Sendable {
    var scenario: String
    var fields: [(String, JSONLine)]
    var summary: [String]
    var rows: [TableRow]

    var jsonLine: String {
        JSONLine.object([("scenario", .string(scenario))] + fields).rendered
    }

    func print() {
        Swift.print(jsonLine)
        for line in summary {
            FileHandle.standardError.write(Data("  \(line)\n".utf8))
        }
    }
}

/// The Markdown table `chat-bench all` writes.
enum ResultsTable {
    static func markdown(_ rows: [TableRow], header: String) -> String {
        var text = header + "\n\n| scenario | metric | measured | target | met |\n|---|---|---|---|---|\n"
        for row in rows {
            let met = row.met.map { $0 ? "yes" : "**no**" } ?? "–"
            text += "| \(row.scenario) | \(row.metric) | \(row.measured) | \(row.target) | \(met) |\n"
        }
        return text
    }
}

/// Numbers as people read them.
enum Format {
    static func decimal(_ value: Double, _ digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }

    static func thousands(_ value: Double) -> String {
        let whole = Int(value.rounded())
        let digits = String(whole)
        var out = ""
        for (offset, character) in digits.reversed().enumerated() {
            if offset > 0 && offset % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }
}
