import Shared
import Testing

@testable import chat_tui

/// Tab on the input line: commands, user names, file names, cycling.
@Suite("Tab completion")
struct CompletionTests {
    func model(typing text: String, files: [FileInfo] = []) -> ChatModel {
        var model = Fixture.online()
        _ = model.handle(.frame(.info(.init(event: .join, user: "bobby"))))
        _ = model.handle(.fileList(files))
        _ = model.handle(.key(.paste(text)))
        return model
    }

    @Test func commandsCycle() {
        var model = model(typing: "/d")
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "/download ")
        #expect(model.status == .info("/download  /delete"))
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "/delete ")
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "/download ", "around again")
    }

    @Test func namesCycleOnlineFirst() {
        var model = model(typing: "bo")
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "bob: ", "a name that starts the line is addressed, IRC style")
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "bobby: ")
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "bob: ")
    }

    @Test func namesInsideAMessageAndAfterMsg() {
        var inside = model(typing: "ask @CA")
        _ = inside.handle(.key(.tab))
        #expect(inside.input.text == "ask @carol ")

        var offline = model(typing: "ping d")
        _ = offline.handle(.key(.tab))
        #expect(offline.input.text == "ping dave ")

        var msg = model(typing: "/msg c")
        _ = msg.handle(.key(.tab))
        #expect(msg.input.text == "/msg carol ")

        var text = model(typing: "/msg carol c")
        #expect(text.handle(.key(.tab)) == [.bell], "past the user is the message: nothing to complete")
    }

    @Test func completesInTheMiddleOfTheLine() {
        var model = model(typing: "hi ca how are you")
        for _ in 0..<"how are you".count + 1 { _ = model.handle(.key(.left)) }
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "hi carol  how are you")
        #expect(model.input.cursor == "hi carol ".count)
    }

    @Test func neitherMeNorNothing() {
        var me = model(typing: "al")
        #expect(me.handle(.key(.tab)) == [.bell])
        #expect(me.input.text == "al")
        var empty = model(typing: "")
        #expect(empty.handle(.key(.tab)) == [.bell])
    }

    @Test func anotherKeyEndsTheCycle() {
        var model = model(typing: "bo")
        _ = model.handle(.key(.tab))
        _ = model.handle(.key(.backspace))
        _ = model.handle(.key(.backspace))
        #expect(model.input.text == "bob")
        _ = model.handle(.key(.tab))
        #expect(model.input.text == "bob: ", "a fresh completion of the word as it is now")
    }

    @Test func fileNames() {
        let files = [Fixture.file("readme.md", owner: "bob"), Fixture.file("report 2026.pdf"), Fixture.file("zeta")]
        var download = model(typing: "/download re", files: files)
        _ = download.handle(.key(.tab))
        #expect(download.input.text == "/download readme.md ")
        _ = download.handle(.key(.tab))
        #expect(download.input.text == "/download \"report 2026.pdf\" ")
        #expect(SlashCommand.parse(download.input.text) == .success(.download(name: "report 2026.pdf", destination: nil)))

        var delete = model(typing: "/delete re", files: files)
        _ = delete.handle(.key(.tab))
        #expect(delete.input.text == "/delete report 2026.pdf", "only my own files, as the rest of the line")
        _ = delete.handle(.key(.tab))
        #expect(delete.input.text == "/delete report 2026.pdf")

        var destination = model(typing: "/download zeta ~/do", files: files)
        #expect(destination.handle(.key(.tab)) == [.bell], "the destination is a local path, not a file name")
    }
}
