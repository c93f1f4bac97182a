import Shared

/// The file view, the prompts of file actions, and transfers. Deleting is offered only for the
/// user's own files (the server refuses the others with 403 anyway) and always asks y/n first.
extension ChatModel {
    /// F3. The list is fetched at every `welcome` and kept current by `file` events, so opening the
    /// view fetches only if no listing has arrived yet; `r` and `/files` refresh on demand.
    mutating func toggleFileView() -> [ChatEffect] {
        if focus == .files {
            focus = .input
            return []
        }
        focus = .files
        showingHelp = false
        return files.isLoaded ? [] : [.fetchFiles]
    }

    mutating func pressInFiles(_ key: Key) -> [ChatEffect] {
        if let delta = key.listMovement(page: listPage, rows: files.files.count) {
            files.moveSelection(by: delta)
            return []
        }
        switch key {
        case .enter, .character("d"):
            guard let file = files.selected else { return [] }
            prompt = Prompt(.downloadDestination(name: file.name), text: file.name)
        case .character("u"):
            prompt = Prompt(.uploadPath)
        case .character("x"), .delete:
            guard let file = files.selected else { return [] }
            return askToDelete(file.name) ?? []
        case .character("r"):
            return [.fetchFiles]
        case .escape, .character("q"):
            focus = .input
        default:
            break
        }
        return []
    }

    mutating func pressInPrompt(_ key: Key) -> [ChatEffect] {
        guard let current = prompt else { return [] }
        if case .confirmDelete(let name) = current.kind {
            switch key {
            case .character("y"), .character("Y"):
                prompt = nil
                status = .info("deleting \(name)…")
                return [.delete(name: name)]
            case .character("n"), .character("N"), .escape, .ctrl("g"):
                prompt = nil
                status = .info("kept \(name)")
            default:
                break
            }
            return []
        }
        if case .confirmOverwrite(let name, let path) = current.kind {
            switch key {
            case .character("y"), .character("Y"):
                prompt = nil
                return startDownload(name, to: path, replace: true) ?? []
            case .character("n"), .character("N"), .escape, .ctrl("g"):
                prompt = nil
                status = .info("kept \(path); not downloaded")
            default:
                break
            }
            return []
        }
        switch key {
        case .escape, .ctrl("g"):
            prompt = nil
        case .enter:
            return submitPrompt(current)
        case .tab:
            return [.completePath(current.editor.text)]
        case .paste(let text):
            // A path is one line: a pasted newline must not become part of it.
            let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            prompt!.editor.insert(firstLine)
        case .up, .down:
            break
        default:
            _ = prompt!.editor.handle(key)
        }
        return []
    }

    private mutating func submitPrompt(_ current: Prompt) -> [ChatEffect] {
        let text = current.editor.text.trimmingTrailingWhitespace()
        switch current.kind {
        case .uploadPath:
            guard !text.isEmpty else {
                status = .error("type the path of a file to upload, or Esc")
                return []
            }
            guard let effects = startUpload(text) else { return [] }  // the prompt stays for a fix
            prompt = nil
            return effects
        case .downloadDestination(let name):
            prompt = nil
            return startDownload(name, to: text.isEmpty ? name : text) ?? []
        case .confirmDelete, .confirmOverwrite:
            return []
        }
    }

    /// The upload of a local file under its own name, or `nil` with the reason in the status line.
    mutating func startUpload(_ path: String) -> [ChatEffect]? {
        let name: String
        switch FileName.validate(Self.lastPathComponent(path)) {
        case .failure(let error):
            status = .error("cannot upload \(path): \(error.message)")
            return nil
        case .success(let valid):
            name = valid
        }
        if let existing = files.find(name), !isMe(existing.owner) {
            status = .error("\(name) belongs to \(existing.owner): rename your file to upload it")
            return nil
        }
        let id = nextTransferID
        nextTransferID += 1
        transfers.append(Transfer(id: id, direction: .upload, name: name, localPath: path))
        status = .info("uploading \(name)…")
        return [.upload(id: id, localPath: path, name: name)]
    }

    /// A download, or `nil` with the reason in the status line. Unless `replace`, a destination
    /// that exists comes back as ``ChatEvent/downloadTargetExists(id:path:)`` and asks first.
    mutating func startDownload(_ name: String, to destination: String, replace: Bool = false) -> [ChatEffect]? {
        if files.isLoaded && files.find(name) == nil {
            status = .error("no file named \(name)")
            return nil
        }
        let id = nextTransferID
        nextTransferID += 1
        transfers.append(Transfer(id: id, direction: .download, name: name, localPath: destination,
                                  total: files.find(name)?.size))
        status = .info("downloading \(name)…")
        return [.download(id: id, name: name, destination: destination, replace: replace)]
    }

    /// Opens the y/n prompt for deleting one of the user's files, or says why not.
    mutating func askToDelete(_ name: String) -> [ChatEffect]? {
        guard let file = files.find(name) else {
            status = .error(files.isLoaded ? "no file named \(name)" : "the file list has not arrived yet")
            return nil
        }
        guard isMe(file.owner) else {
            status = .error("only \(file.owner) can delete \(name)")
            return nil
        }
        prompt = Prompt(.confirmDelete(name: name))
        return []
    }

    mutating func transferFinished(id: Int, _ result: Result<Int64, TransferFailure>) {
        guard let index = transfers.firstIndex(where: { $0.id == id }) else { return }
        let transfer = transfers.remove(at: index)
        switch (result, transfer.direction) {
        case (.success(let bytes), .upload):
            status = .info("uploaded \(transfer.name) (\(FileList.formatSize(bytes)))")
        case (.success(let bytes), .download):
            status = .info("downloaded \(transfer.name) to \(transfer.localPath) (\(FileList.formatSize(bytes)))")
        case (.failure(let failure), .upload):
            status = .error("upload of \(transfer.name) failed: \(failure.message)")
        case (.failure(let failure), .download):
            status = .error("download of \(transfer.name) failed: \(failure.message)")
        }
    }

    /// Tab in a path prompt, answered: one match replaces the text, several extend it to their
    /// common prefix (shell style: paths have no natural cycling order) and are listed in the status line.
    mutating func pathCompletions(partial: String, candidates: [String]) -> [ChatEffect] {
        guard let current = prompt, current.takesPath, current.editor.text == partial else { return [] }
        guard let first = candidates.first else { return [.bell] }
        if candidates.count == 1 {
            prompt!.editor.setText(first)
            return []
        }
        var common = Array(first)
        for candidate in candidates.dropFirst() {
            common = Array(zip(common, candidate).prefix { $0 == $1 }.map(\.0))
        }
        if common.count > partial.count { prompt!.editor.setText(String(common)) }
        status = .info(candidates.map { Self.lastPathComponent($0) + ($0.hasSuffix("/") ? "/" : "") }.joined(separator: "  "))
        return []
    }

    /// The file name part of a local path (`/tmp/a.txt` → `a.txt`, `dir/` → `dir`).
    static func lastPathComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed.split(separator: "/", omittingEmptySubsequences: false).last ?? trimmed)
    }
}
