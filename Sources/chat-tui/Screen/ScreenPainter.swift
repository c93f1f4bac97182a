import Foundation
import Shared

/// Draws a ``ChatModel`` on a ``Terminal``, to the geometry of the model's ``ScreenLayout``: the
/// tab bar, the message pane (or the file view, or the help), the users pane, the status line and
/// the input line. It decides nothing; everything it shows is read from the model.
struct ScreenPainter {
    let terminal: Terminal

    func paint(_ model: ChatModel) {
        let layout = model.layout
        terminal.clear()
        paintTabs(model, width: layout.columns)
        let paneTop = 1
        if model.showingHelp {
            // The help takes the whole width: its lines are long, and the users pane can wait.
            paintHelp(model, top: paneTop, width: layout.columns, height: layout.messagePaneHeight)
        } else if model.focus == .files {
            paintFiles(model, top: paneTop, width: layout.messagePaneWidth, height: layout.messagePaneHeight)
        } else {
            paintMessages(model, top: paneTop)
        }
        if layout.usersPaneWidth > 0 && !model.showingHelp {
            terminal.verticalLine(row: paneTop, column: layout.messagePaneWidth, height: layout.messagePaneHeight)
            paintUsers(model, top: paneTop, column: layout.messagePaneWidth + 1, width: layout.usersPaneWidth,
                       height: layout.messagePaneHeight)
        }
        paintStatus(model, row: layout.statusRow, width: layout.columns)
        paintInput(model, row: layout.inputRow, width: layout.columns)
        terminal.refresh()
    }

    private func paintTabs(_ model: ChatModel, width: Int) {
        terminal.put("", row: 0, column: 0, width: width, style: .init(reverse: true), fill: true)
        var column = 0
        for (index, tab) in model.tabs.enumerated() {
            var label = " \(index + 1):\(tab.title)"
            if tab.unread > 0 { label += "(\(tab.unread))" }
            if tab.isTyping { label += "…" }
            label += " "
            let columns = TerminalWidth.columns(of: label)
            guard column + columns <= width else {
                terminal.put("»", row: 0, column: max(0, width - 1), width: 1, style: .init(reverse: true))
                break
            }
            let active = index == model.activeTab
            let style = Terminal.Style(bold: active || tab.highlighted, reverse: !active, underline: tab.highlighted && !active,
                                       colorPair: active ? 1 : 0)
            terminal.put(label, row: 0, column: column, width: columns, style: style)
            column += columns
        }
    }

    private func paintMessages(_ model: ChatModel, top: Int) {
        let lines = model.visibleMessageLines()
        let height = model.layout.messagePaneHeight
        let width = model.layout.messagePaneWidth
        // The newest lines sit at the bottom of the pane, like every chat client.
        let first = top + max(0, height - lines.count)
        if lines.count < height, model.activeChat.olderAvailable == false, lines.isEmpty {
            terminal.put("No messages yet.", row: top, column: 0, width: width, style: .init(dim: true))
        }
        for (offset, line) in lines.enumerated() {
            let row = first + offset
            switch line.kind {
            case .text: terminal.put(line.text, row: row, column: 0, width: width)
            case .aside: terminal.put(line.text, row: row, column: 0, width: width, style: .init(dim: true))
            case .divider: terminal.put(line.text, row: row, column: 0, width: width, style: .init(bold: true, colorPair: 1))
            }
            if let sender = line.sender, let columns = line.senderColumns {
                let color = 2 + UserColor.index(for: sender, paletteSize: Terminal.userColorCount)
                terminal.put(sender, row: row, column: columns.lowerBound, width: columns.count,
                             style: .init(bold: true, colorPair: color))
            }
        }
    }

    private func paintFiles(_ model: ChatModel, top: Int, width: Int, height: Int) {
        terminal.put(" Files: u upload  Enter/d download  x delete  Esc back", row: top, column: 0, width: width,
                     style: .init(bold: true, reverse: true), fill: true)
        let files = model.files.files
        let rows = height - 1 - min(model.transfers.count, 3)
        let selected = model.files.selectedIndex
        let start = max(0, min((selected ?? 0) - rows + 1, max(0, files.count - rows)))
        if files.isEmpty {
            terminal.put("No files yet. Press u to upload one.", row: top + 1, column: 1, width: width - 1, style: .init(dim: true))
        }
        for (offset, file) in files.dropFirst(start).prefix(max(0, rows)).enumerated() {
            let index = start + offset
            let size = FileList.formatSize(file.size)
            let date = String(file.uploadedAt.prefix(16)).replacingOccurrences(of: "T", with: " ")
            let owner = String(file.owner.prefix(12))
            let fixed = "\(padLeft(size, 8))  \(padRight(owner, 12))  \(date)  "
            let line = fixed + file.name
            let mine = file.owner.lowercased() == model.me?.lowercased()
            terminal.put(line, row: top + 1 + offset, column: 0, width: width,
                         style: .init(bold: mine, reverse: index == selected), fill: index == selected)
        }
        for (offset, transfer) in model.transfers.suffix(3).enumerated() {
            let arrow = transfer.direction == .upload ? "↑" : "↓"
            let progress = transfer.percent.map { "\($0)%" } ?? FileList.formatSize(transfer.bytes)
            terminal.put("\(arrow) \(transfer.name) \(progress)", row: top + rows + 1 + offset, column: 0, width: width,
                         style: .init(dim: true))
        }
    }

    private func paintHelp(_ model: ChatModel, top: Int, width: Int, height: Int) {
        let lines = model.helpLines
        let fits = lines.count <= height
        let shown = fits ? lines[...] : lines.dropFirst(model.helpOffset).prefix(height - 1)
        for (offset, line) in shown.enumerated() {
            terminal.put(line, row: top + offset, column: 1, width: width - 1)
        }
        if !fits {
            let more = model.helpOffset < model.helpScrollLimit
            let hint = more ? " ↓ PgDn: more help · any other key closes " : " ↑ PgUp: back · any other key closes "
            terminal.put(hint, row: top + height - 1, column: 1, width: width - 1, style: .init(reverse: true))
        }
    }

    private func paintUsers(_ model: ChatModel, top: Int, column: Int, width: Int, height: Int) {
        let online = model.users.onlineCount
        terminal.put(" Users \(online)/\(model.users.users.count)", row: top, column: column, width: width, style: .init(bold: true))
        let selected = model.focus == .users ? model.users.selectedIndex : nil
        for (offset, user) in model.users.users.prefix(max(0, height - 1)).enumerated() {
            let marker = user.online ? "●" : " "
            let color = user.online ? 2 + UserColor.index(for: user.name, paletteSize: Terminal.userColorCount) : 0
            terminal.put("\(marker) \(user.name)", row: top + 1 + offset, column: column, width: width,
                         style: .init(reverse: offset == selected, dim: !user.online, colorPair: color), fill: offset == selected)
        }
    }

    private func paintStatus(_ model: ChatModel, row: Int, width: Int) {
        let isError = model.status?.kind == .error
        for (offset, line) in model.statusLines.enumerated() {
            terminal.put(line, row: row + offset, column: 0, width: width,
                         style: .init(bold: isError, reverse: true, colorPair: isError ? 0 : 1), fill: true)
        }
    }

    private func paintInput(_ model: ChatModel, row: Int, width: Int) {
        let label = model.inputLabel
        let labelColumns = TerminalWidth.columns(of: label)
        terminal.put(label, row: row, column: 0, width: width, style: .init(bold: true))
        let view = model.visibleEditor.view(width: max(1, width - labelColumns - 1))
        terminal.put(view.text, row: row, column: labelColumns, width: width - labelColumns)
        terminal.moveCursor(row: row, column: min(width - 1, labelColumns + view.cursorColumn))
    }

    private func padLeft(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - TerminalWidth.columns(of: text))) + text
    }

    private func padRight(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - TerminalWidth.columns(of: text)))
    }
}
