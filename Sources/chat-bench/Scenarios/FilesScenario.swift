import Foundation

/// `files`: one file of `bytes` random bytes up and down through HTTP (`PUT`, `GET`) and FTP
/// (`STOR`, `RETR`), with curl as the client (it is not the bottleneck: it reads and writes at
/// memory speed); MB/s from curl's own timing, and chatd's peak RSS against its RSS before.
struct FilesScenario {
    var bytes: Int

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        try await BenchSetup.run(options, accounts: 1) { setup in try measure(setup) }
    }

    private struct Transfer {
        var name: String
        var megabytesPerSecond: Double
        var peakGrowthKiB: Int
    }

    private func measure(_ setup: BenchSetup) throws -> ScenarioResult {
        let payload = setup.workDirectory.appendingPathComponent("payload")
        try Self.writeRandom(bytes: bytes, to: payload)
        let login = setup.accounts.logins[0]
        let http = "http://127.0.0.1:\(setup.chatd.ports.http)/api/files"
        let ftp = "ftp://127.0.0.1:\(setup.chatd.ports.ftp)"
        let bearer = ["-H", "Authorization: Bearer \(login.token)"]
        let user = ["--user", "\(login.name):\(BenchAccounts.password)"]
        let rssStart = setup.chatd.memory().rssKiB
        var transfers: [Transfer] = []
        func run(_ name: String, _ arguments: [String]) throws {
            let before = setup.chatd.memory().rssKiB
            let seconds = try Self.curl(arguments)
            transfers.append(Transfer(name: name, megabytesPerSecond: Double(bytes) / seconds / 1e6,
                                      peakGrowthKiB: setup.chatd.memory().peakKiB - before))
        }
        try run("http_upload", bearer + ["-T", payload.path, "\(http)/payload-http"])
        try run("http_download", bearer + ["\(http)/payload-http"])
        try run("ftp_stor", user + ["-T", payload.path, "\(ftp)/payload-ftp"])
        try run("ftp_retr", user + ["\(ftp)/payload-ftp"])
        let peak = setup.chatd.memory().peakKiB
        try? FileManager.default.removeItem(at: payload)

        func speed(_ name: String) -> Double { transfers.first { $0.name == name }?.megabytesPerSecond ?? 0 }
        let growth = transfers.map(\.peakGrowthKiB).max() ?? 0
        return setup.describe(ScenarioResult(
            scenario: "files",
            fields: [("bytes", .int(bytes))] + transfers.map { ("\($0.name)_mbps", .double($0.megabytesPerSecond)) }
                + [("rss_start_kib", .int(rssStart)), ("peak_rss_kib", .int(peak)), ("max_peak_growth_kib", .int(growth))],
            summary: [
                transfers.map { "\($0.name.replacingOccurrences(of: "_", with: " ")) \(Format.thousands($0.megabytesPerSecond)) MB/s" }.joined(separator: ", "),
                "chatd RSS \(rssStart / 1024) MiB at start, peak \(peak / 1024) MiB (largest growth during one transfer \(growth / 1024) MiB)",
            ],
            rows: [
                TableRow(scenario: "files", metric: "HTTP download", measured: "\(Format.thousands(speed("http_download"))) MB/s", target: "≥ 2,000 MB/s", met: speed("http_download") >= 2000),
                TableRow(scenario: "files", metric: "HTTP upload", measured: "\(Format.thousands(speed("http_upload"))) MB/s", target: "≥ 1,000 MB/s", met: speed("http_upload") >= 1000),
                TableRow(scenario: "files", metric: "FTP RETR", measured: "\(Format.thousands(speed("ftp_retr"))) MB/s", target: "≥ 2,000 MB/s", met: speed("ftp_retr") >= 2000),
                TableRow(scenario: "files", metric: "FTP STOR", measured: "\(Format.thousands(speed("ftp_stor"))) MB/s", target: "≥ 1,000 MB/s", met: speed("ftp_stor") >= 1000),
                TableRow(scenario: "files", metric: "chatd peak RSS growth during a transfer", measured: "\(growth / 1024) MiB", target: "constant (< 16 MiB)", met: growth < 16 * 1024),
            ]))
    }

    /// Runs curl and returns its `time_total`; a failed transfer is an error, not a slow number.
    private static func curl(_ arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total}"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let seconds = Double(text), seconds > 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw BenchError("curl \(arguments.last ?? "") failed (\(process.terminationStatus)): \(message)")
        }
        return seconds
    }

    private static func writeRandom(bytes: Int, to url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var left = bytes
        while left > 0 {
            let count = min(left, block.count)
            block.withUnsafeMutableBytes { raw in
                let words = raw.bindMemory(to: UInt64.self)
                for index in words.indices { words[index] = generator.next() }
            }
            try handle.write(contentsOf: block[0..<count])
            left -= count
        }
    }
}
