import Foundation

/// The few fields of `/proc/PID/stat` chat-bench reads: CPU time (in clock ticks) and the parent,
/// so that a server's CPU is the kernel's account of it, not the server's own.
struct ProcStat {
    var parent: Int32
    var user: Double
    var system: Double
    /// CPU of children the process has waited for.
    var childUser: Double
    var childSystem: Double

    init?(pid: Int32) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // fields after "(comm)": state is field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 15, let parent = Int32(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]),
              let childUser = Double(fields[13]), let childSystem = Double(fields[14]) else { return nil }
        self.parent = parent
        self.user = user
        self.system = system
        self.childUser = childUser
        self.childSystem = childSystem
    }
}
