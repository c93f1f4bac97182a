import Shared
import Testing

@testable import chat_tui

@Suite("Slash commands")
struct SlashCommandTests {
    func parse(_ line: String, files: Set<String> = []) -> Result<SlashCommand, ProtocolError> {
        SlashCommand.parse(line, isFileName: { files.contains($0) })
    }

    @Test func everyCommand() throws {
        #expect(try parse("/msg bob hello  there").get() == .msg(user: "bob", text: "hello  there"))
        #expect(try parse("/MSG bob two\nlines").get() == .msg(user: "bob", text: "two\nlines"))
        #expect(try parse("/query carol").get() == .query(user: "carol"))
        #expect(try parse("/close").get() == .close)
        #expect(try parse("/files").get() == .files)
        #expect(try parse("/upload").get() == .upload(path: nil))
        #expect(try parse("/upload ~/My Docs/a b.txt ").get() == .upload(path: "~/My Docs/a b.txt"))
        #expect(try parse("/upload \"/tmp/x y\"").get() == .upload(path: "/tmp/x y"))
        #expect(try parse("/download report.pdf").get() == .download(name: "report.pdf", destination: nil))
        #expect(try parse("/download report.pdf /tmp/").get() == .download(name: "report.pdf", destination: "/tmp/"))
        #expect(try parse("/delete old notes.txt").get() == .delete(name: "old notes.txt"))
        #expect(try parse("/users").get() == .users)
        #expect(try parse("/help").get() == .help)
        #expect(try parse("/quit").get() == .quit)
    }

    @Test func fileNamesWithSpaces() throws {
        #expect(try parse("/download \"my file.txt\" ~/dl").get() == .download(name: "my file.txt", destination: "~/dl"))
        #expect(try parse("/download \"say \\\"hi\\\".txt\"").get() == .download(name: "say \"hi\".txt", destination: nil))
        #expect(try parse("/download my file.txt", files: ["my file.txt"]).get() == .download(name: "my file.txt", destination: nil),
                "an existing name needs no quotes")
        #expect(SlashCommand.splitArguments(SlashCommand.quotedIfNeeded("a \"b\" \\c")) == ["a \"b\" \\c"])
        #expect(SlashCommand.quotedIfNeeded("plain.txt") == "plain.txt")
    }

    @Test(arguments: [
        ("/msg", "usage: /msg"), ("/msg bob", "usage: /msg"), ("/msg bob   ", "usage: /msg"),
        ("/msg bad/name hi", "not a user name"), ("/query", "usage: /query"), ("/query a b", "usage: /query"),
        ("/download", "usage: /download"), ("/download a b c", "usage: /download"), ("/delete", "usage: /delete"),
        ("/frobnicate now", "unknown command /frobnicate"), ("/", "type a command"),
    ])
    func refusals(_ line: String, _ reason: String) {
        guard case .failure(let error) = parse(line) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(error.message.contains(reason), "\(line): \(error.message)")
    }

    @Test func doubleSlashIsAMessage() {
        #expect(!SlashCommand.isCommand("//shrug"))
        #expect(SlashCommand.isCommand("/shrug"))
        #expect(!SlashCommand.isCommand("hello /msg"))
    }
}
