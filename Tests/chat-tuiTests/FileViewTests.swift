import Shared
import Testing

@testable import chat_tui

/// The file view: the list and its live updates, upload, download, delete (own files, after y/n),
/// transfers and path completion.
@Suite("File view")
struct FileViewTests {
    func model(files: [FileInfo] = [Fixture.file("mine.txt"), Fixture.file("theirs.txt", owner: "Bob")]) -> ChatModel {
        var model = Fixture.online()
        _ = model.handle(.fileList(files))
        return model
    }

    @Test func liveUpdatesKeepTheServersOrderAndTheSelection() {
        var model = model(files: [Fixture.file("b.txt"), Fixture.file("é.txt"), Fixture.file("B.txt")])
        #expect(model.files.files.map(\.name) == ["B.txt", "b.txt", "é.txt"], "by the bytes of the UTF-8 name")
        _ = model.handle(.key(.function(3)))
        _ = model.press(.down)
        #expect(model.files.selected?.name == "b.txt")
        _ = model.handle(.frame(.file(FileEvent(event: .added, file: Fixture.file("a.txt", owner: "bob"), by: "bob"))))
        #expect(model.files.files.map(\.name) == ["B.txt", "a.txt", "b.txt", "é.txt"])
        #expect(model.files.selected?.name == "b.txt", "the selection stays on its file")
        _ = model.handle(.frame(.file(FileEvent(event: .replaced, file: Fixture.file("b.txt", size: 999), by: "alice"))))
        #expect(model.files.find("b.txt")?.size == 999)
        _ = model.handle(.frame(.file(FileEvent(event: .deleted, file: Fixture.file("b.txt"), by: "alice"))))
        #expect(model.files.files.map(\.name) == ["B.txt", "a.txt", "é.txt"])
        #expect(model.files.selected?.name == "é.txt", "the next file takes the deleted one's row")
    }

    @Test func listKeysMoveTheSelectionByRowPageAndEnd() {
        var model = model(files: (0..<40).map { Fixture.file(String(format: "f%02d.txt", $0)) })
        _ = model.handle(.key(.function(3)))
        _ = model.press(.end)
        #expect(model.files.selected?.name == "f39.txt")
        _ = model.press(.pageUp)
        #expect(model.files.selected?.name == String(format: "f%02d.txt", 39 - model.listPage))
        _ = model.press(.home, .down)
        #expect(model.files.selected?.name == "f01.txt")
        _ = model.press(.pageDown)
        #expect(model.files.selected?.name == String(format: "f%02d.txt", 1 + model.listPage))
        #expect(Key.character("d").listMovement(page: 10, rows: 40) == nil, "other keys are the pane's own")
    }

    @Test func f3OpensTheViewAndFetchesOnce() {
        var fresh = Fixture.online()
        #expect(fresh.handle(.key(.function(3))) == [.fetchFiles])
        #expect(fresh.focus == .files)
        #expect(fresh.handle(.key(.function(3))).isEmpty)
        #expect(fresh.focus == .input)
        var loaded = model()
        #expect(loaded.handle(.key(.function(3))).isEmpty)
        #expect(loaded.handle(.key(.character("r"))) == [.fetchFiles])
        _ = loaded.type("/files")
        #expect(loaded.input.isEmpty, "letters in the file view are its keys, not text")
    }

    @Test func deletingOwnFileAsksFirst() {
        var model = model()
        _ = model.handle(.key(.function(3)))
        #expect(model.files.selected?.name == "mine.txt")
        #expect(model.handle(.key(.character("x"))).isEmpty)
        #expect(model.prompt?.kind == .confirmDelete(name: "mine.txt"))
        #expect(model.inputLabel == "Delete mine.txt? (y/n) ")
        #expect(model.handle(.key(.character("q"))).isEmpty, "only y or n answer")
        #expect(model.handle(.key(.character("n"))).isEmpty)
        #expect(model.prompt == nil)
        _ = model.handle(.key(.delete))
        #expect(model.handle(.key(.character("y"))) == [.delete(name: "mine.txt")])
        #expect(model.prompt == nil)
        #expect(model.status == .info("deleting mine.txt…"))
        _ = model.handle(.frame(.file(FileEvent(event: .deleted, file: Fixture.file("mine.txt"), by: "alice"))))
        #expect(model.status == .info("deleted mine.txt"), "the server's event answers the pending delete")
    }

    @Test func othersFilesCannotBeDeleted() {
        var model = model()
        _ = model.press(.function(3), .down)
        #expect(model.files.selected?.name == "theirs.txt")
        #expect(model.handle(.key(.character("x"))).isEmpty)
        #expect(model.prompt == nil)
        #expect(model.status == .error("only Bob can delete theirs.txt"))

        _ = model.press(.escape)
        _ = model.type("/delete theirs.txt")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.prompt == nil)
        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/delete gone.txt")
        _ = model.handle(.key(.enter))
        #expect(model.status == .error("no file named gone.txt"))
        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/delete mine.txt")
        _ = model.handle(.key(.enter))
        #expect(model.handle(.key(.character("Y"))) == [.delete(name: "mine.txt")])
    }

    @Test func uploadFromThePromptWithProgress() {
        var model = model()
        _ = model.press(.function(3), .character("u"))
        #expect(model.prompt?.kind == .uploadPath)
        _ = model.type("/tmp/notes.txt")
        #expect(model.handle(.key(.enter)) == [.upload(id: 1, localPath: "/tmp/notes.txt", name: "notes.txt")])
        #expect(model.prompt == nil)
        #expect(model.transfers.map(\.name) == ["notes.txt"])
        _ = model.handle(.transferProgress(id: 1, bytes: 512, total: 2048))
        #expect(model.transfers.first?.percent == 25)
        _ = model.handle(.transferFinished(id: 1, .success(2048)))
        #expect(model.transfers.isEmpty)
        #expect(model.status == .info("uploaded notes.txt (2.0 KiB)"))
    }

    @Test func uploadsThatCannotWork() {
        var model = model()
        _ = model.type("/upload ~/theirs.txt")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.status == .error("theirs.txt belongs to Bob: rename your file to upload it"))
        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/upload ..")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.status?.kind == .error)
        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/upload ~/mine.txt")
        #expect(model.handle(.key(.enter)) == [.upload(id: 1, localPath: "~/mine.txt", name: "mine.txt")], "replacing my own file")
    }

    @Test func downloadAsksWhereAndReportsFailure() {
        var model = model()
        _ = model.press(.function(3), .enter)
        #expect(model.prompt?.kind == .downloadDestination(name: "mine.txt"))
        #expect(model.prompt?.editor.text == "mine.txt", "the file's own name by default")
        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/tmp/copy.txt")
        #expect(model.handle(.key(.enter)) == [.download(id: 1, name: "mine.txt", destination: "/tmp/copy.txt")])
        #expect(model.transfers.first?.total == 10)
        _ = model.handle(.transferFinished(id: 1, .failure(TransferFailure("disk full"))))
        #expect(model.status == .error("download of mine.txt failed: disk full"))

        _ = model.handle(.key(.escape))
        _ = model.type("/download nothing.txt")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.status == .error("no file named nothing.txt"))
        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/download theirs.txt")
        #expect(model.handle(.key(.enter)) == [.download(id: 2, name: "theirs.txt", destination: "theirs.txt")])
    }

    @Test func escapeCancelsAPromptAndKeepsTheDraft() {
        var model = model()
        _ = model.type("a draft")
        _ = model.press(.function(3), .character("u"))
        _ = model.type("/tmp/x")
        _ = model.press(.escape)
        #expect(model.prompt == nil)
        #expect(model.focus == .files)
        _ = model.press(.escape)
        #expect(model.focus == .input)
        #expect(model.input.text == "a draft")
    }

    @Test func pathCompletionGoesThroughTheNetLayer() {
        var model = model()
        _ = model.type("/upload")
        _ = model.handle(.key(.enter))
        #expect(model.prompt?.kind == .uploadPath)
        _ = model.type("/tm")
        #expect(model.handle(.key(.tab)) == [.completePath("/tm")])
        _ = model.handle(.pathCompletions(partial: "/tm", candidates: ["/tmp/"]))
        #expect(model.prompt?.editor.text == "/tmp/")
        #expect(model.handle(.key(.tab)) == [.completePath("/tmp/")])
        _ = model.handle(.pathCompletions(partial: "/tmp/", candidates: ["/tmp/a.txt", "/tmp/abc/"]))
        #expect(model.prompt?.editor.text == "/tmp/a")
        #expect(model.status == .info("a.txt  abc/"))
        #expect(model.handle(.pathCompletions(partial: "/tmp/", candidates: ["/tmp/zzz"])).isEmpty)
        #expect(model.prompt?.editor.text == "/tmp/a", "an answer to an older question is ignored")
        #expect(model.handle(.pathCompletions(partial: "/tmp/a", candidates: [])) == [.bell])
        _ = model.handle(.key(.paste("bc/x.txt\nrm -rf /\n")))
        #expect(model.prompt?.editor.text == "/tmp/abc/x.txt", "a path is one line")
    }

    @Test func httpErrorsShowInTheStatusLine() {
        var model = model()
        _ = model.handle(.httpError("403: only the owner can delete a file"))
        #expect(model.status == .error("403: only the owner can delete a file"))
        _ = model.handle(.key(.escape))
        #expect(model.status == nil)
    }

    @Test func sizesForPeople() {
        #expect(FileList.formatSize(0) == "0 B")
        #expect(FileList.formatSize(1023) == "1023 B")
        #expect(FileList.formatSize(1536) == "1.5 KiB")
        #expect(FileList.formatSize(25 * 1024 * 1024) == "25 MiB")
        #expect(FileList.formatSize(1 << 40) == "1.0 TiB")
    }
}
