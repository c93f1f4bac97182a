import Shared

/// The shared file area as the file view shows it: the answer of `GET /api/files`, kept current by
/// live `file` events, sorted like the server sorts it (by the bytes of the UTF-8 name), with the
/// view's selection held by name so that it stays put when files come and go around it.
struct FileList: Sendable {
    private(set) var files: [FileInfo] = []
    /// Whether a listing has arrived. Before that, a name missing here proves nothing.
    private(set) var isLoaded = false
    private(set) var selectedName: String?

    var selectedIndex: Int? {
        guard let selectedName else { return files.isEmpty ? nil : 0 }
        return files.firstIndex { $0.name == selectedName } ?? (files.isEmpty ? nil : 0)
    }

    var selected: FileInfo? { selectedIndex.map { files[$0] } }

    func find(_ name: String) -> FileInfo? {
        files.first { $0.name == name }
    }

    mutating func replace(with files: [FileInfo]) {
        self.files = files.sorted(by: Self.order)
        isLoaded = true
        keepSelectionNear(nil)
    }

    mutating func apply(_ event: FileEvent) {
        let index = files.firstIndex { $0.name == event.file.name }
        switch event.event {
        case .added, .replaced:
            if let index {
                files[index] = event.file
            } else {
                files.append(event.file)
                files.sort(by: Self.order)
            }
        case .deleted:
            guard let index else { return }
            files.remove(at: index)
            keepSelectionNear(index)
        }
    }

    mutating func moveSelection(by delta: Int) {
        guard !files.isEmpty else { return }
        let current = selectedIndex ?? 0
        selectedName = files[min(files.count - 1, max(0, current + delta))].name
    }

    /// After a removal, selects the file that took the removed one's row.
    private mutating func keepSelectionNear(_ removedIndex: Int?) {
        guard let name = selectedName, find(name) == nil else { return }
        if let removedIndex, !files.isEmpty {
            selectedName = files[min(removedIndex, files.count - 1)].name
        } else {
            selectedName = nil
        }
    }

    static func order(_ a: FileInfo, _ b: FileInfo) -> Bool {
        a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }
}

extension FileList {
    /// A size for people: `512 B`, `1.5 KiB`, `12 MiB` (powers of 1024, like the server's limits).
    static func formatSize(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return value < 10 ? "\(tenths / 10).\(tenths % 10) \(units[unit])" : "\(Int(value.rounded())) \(units[unit])"
    }
}
