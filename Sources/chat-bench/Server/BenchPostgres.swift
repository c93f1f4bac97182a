import Foundation

/// The PostgreSQL database a cluster run puts chatd on: either a throwaway server that chat-bench
/// makes in its work directory (the default, so that `--nodes N` needs nothing set up and every
/// run starts from the same empty state), or a database the user names with `--database`.
///
/// The server is run with PostgreSQL's own programs (`initdb`, `pg_ctl`, and `psql` to create
/// the database, describe the server and empty a given one); chatd's schema and accounts are its
/// stores' business (``BenchAccounts`` seeds through `PostgresAccountStore`). The throwaway server
/// keeps PostgreSQL's defaults (`fsync=on`, `synchronous_commit=on`): a message chatd acknowledges
/// is on disk, as with SQLite's `synchronous = FULL`, so the two are compared at the same durability.
final class BenchPostgres: @unchecked Sendable {
    /// What chatd's `--database` gets.
    let url: String
    /// One line for the output: where the server runs and the settings that matter for speed.
    private(set) var settings = ""
    /// The throwaway server, when chat-bench started one.
    private let local: Local?
    private let psql: String
    private var stopped = false

    private struct Local {
        /// `WORK/postgres`: the cluster (`data/`), its unix socket directory and its log.
        var directory: URL
        var binaries: URL
        /// The unprivileged account PostgreSQL runs as when chat-bench runs as root.
        var user: String?
        var port: Int
        var postmasterPID: Int32
        var cleanup: RunningServers.Cleanup
        var data: URL { directory.appendingPathComponent("data") }
        var log: URL { directory.appendingPathComponent("server.log") }
    }

    /// Uses the database at `url`, which must be empty or one that chat-bench filled before:
    /// chat-bench drops every table in it before the run (chatd then migrates afresh) and after.
    static func external(url: String) throws -> BenchPostgres {
        let psql = try findBinary("psql", in: Install.binaryDirectory())
        let database = BenchPostgres(url: url, local: nil, psql: psql)
        try database.emptyExternal(checkFirst: true)
        database.settings = "the PostgreSQL of --database: " + (try database.describeServer())
        return database
    }

    /// Makes a fresh PostgreSQL cluster in `workDirectory/postgres` (`initdb -A trust -U chatd`),
    /// starts it on a free port of 127.0.0.1 with its unix socket in that directory, pinned to
    /// `cpu`, and creates the database `chatbench`. As root, PostgreSQL (which refuses to run as
    /// root) runs as the `postgres` system user, or as one made for it.
    static func start(workDirectory: URL, cpu: Int?, maxConnections: Int) throws -> BenchPostgres {
        guard let binaries = Install.binaryDirectory() ?? Install.onPath() else {
            throw BenchError("--nodes needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql), or give --database URL")
        }
        let directory = workDirectory.appendingPathComponent("postgres")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("socket"), withIntermediateDirectories: true)
        var user: String?
        if getuid() == 0 {
            let name = try Install.unprivilegedUser()
            user = name
            for path in [directory, directory.appendingPathComponent("socket")] {
                try Install.chown(path.path, to: name)
            }
        }
        let initdb = binaries.appendingPathComponent("initdb").path
        let pgCtl = binaries.appendingPathComponent("pg_ctl").path
        let data = directory.appendingPathComponent("data")
        // --no-sync only skips syncing initdb's own files; the server below runs with fsync=on
        try run(initdb, ["-A", "trust", "-U", "chatd", "-E", "UTF8", "--locale=C", "--no-sync", "-D", data.path],
                as: user, in: directory, what: "initdb")
        let port = try freePort()
        let conf = """

            # chat-bench: a throwaway server for one benchmark run (fsync and synchronous_commit left at their defaults)
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory.appendingPathComponent("socket").path)'
            max_connections = \(maxConnections)

            """
        let confFile = try FileHandle(forWritingTo: data.appendingPathComponent("postgresql.conf"))
        try confFile.seekToEnd()
        try confFile.write(contentsOf: Data(conf.utf8))
        try confFile.close()

        let log = directory.appendingPathComponent("server.log")
        let postmasterFile = data.appendingPathComponent("postmaster.pid")
        // Ctrl-C from here on: an immediate shutdown (SIGQUIT takes the backends down too), then
        // the files go. Registered before the start, which a Ctrl-C may interrupt.
        let shutdown: @Sendable () -> Void = {
            let text = (try? String(contentsOf: postmasterFile, encoding: .utf8)) ?? ""
            if let pid = Int32(text.split(separator: "\n").first ?? "") {
                kill(pid, SIGQUIT)
                let deadline = Date().addingTimeInterval(5)
                while kill(pid, 0) == 0 && Date() < deadline { usleep(20_000) }
            }
            try? FileManager.default.removeItem(at: directory)
        }
        let cleanup = RunningServers.shared.addCleanup(shutdown)
        // taskset outside pg_ctl: the postmaster and every backend it forks inherit the CPU
        var command = (cpu.map { ["/usr/bin/taskset", "-c", "\($0)"] } ?? []) + [pgCtl, "-D", data.path, "-l", log.path, "-w", "-t", "60", "start"]
        if let user { command = ["/usr/sbin/runuser", "-u", user, "--"] + command }
        command = ["/usr/bin/env", "-C", directory.path] + command
        let startOutput = directory.appendingPathComponent("pg_ctl-start.out")
        let status = (try? spawnAndWait(command, output: startOutput)) ?? -1
        let pidText = (try? String(contentsOf: postmasterFile, encoding: .utf8)) ?? ""
        guard status == 0, let pid = Int32(pidText.split(separator: "\n").first ?? "") else {
            let said = ((try? String(contentsOf: startOutput, encoding: .utf8)) ?? "").split(separator: "\n").suffix(3).joined(separator: " | ")
            let message = "pg_ctl start failed (\(status)): \(said) \(tail(of: log))"
            shutdown()
            RunningServers.shared.removeCleanup(cleanup)
            throw BenchError(message)
        }
        let local = Local(directory: directory, binaries: binaries, user: user, port: port, postmasterPID: pid, cleanup: cleanup)
        let database = BenchPostgres(url: "postgres://chatd@127.0.0.1:\(port)/chatbench?sslmode=disable", local: local,
                                     psql: binaries.appendingPathComponent("psql").path)
        do {
            try database.psql(url: "postgres://chatd@127.0.0.1:\(port)/postgres?sslmode=disable", sql: "CREATE DATABASE chatbench")
            database.settings = "a throwaway PostgreSQL in \(directory.path)" + (cpu.map { ", pinned to CPU \($0)" } ?? "")
                + (user.map { ", run as \($0)" } ?? "") + ": " + (try database.describeServer())
        } catch {
            database.stop()
            throw error
        }
        return database
    }

    private init(url: String, local: Local?, psql: String) {
        self.url = url
        self.local = local
        self.psql = psql
    }

    /// Runs `sql` (any number of statements) through `psql -v ON_ERROR_STOP=1`, fed on stdin so
    /// that its size does not matter; returns psql's unaligned, tuples-only output.
    @discardableResult
    private func psql(sql: String) throws -> String {
        try psql(url: url, sql: sql)
    }

    @discardableResult
    private func psql(url: String, sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psql)
        process.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // write on another thread: a large script must not wait on output nobody reads yet
        let bytes = Data(sql.utf8)
        let writer = Thread {
            try? input.fileHandleForWriting.write(contentsOf: bytes)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("psql failed (\(process.terminationStatus)): \(problems.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return text
    }

    /// The server's version and the settings that decide what a commit costs.
    private func describeServer() throws -> String {
        let names = ["fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers", "max_connections"]
        let values = try psql(sql: "SELECT " + (["'PostgreSQL ' || current_setting('server_version')"]
            + names.map { "'\($0)=' || current_setting('\($0)')" }).joined(separator: " || ' ' || ") + ";")
        return values.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// User plus system CPU seconds of the postmaster and all its processes (backends, WAL
    /// writer, checkpointer…), counting those that already exited (the postmaster's `cutime`,
    /// `cstime`); nil for a server chat-bench did not start.
    func cpuSeconds() -> Double? {
        guard let local else { return nil }
        let root = local.postmasterPID
        var ticks = 0.0
        if let stat = ProcStat(pid: root) {
            ticks += stat.user + stat.system + stat.childUser + stat.childSystem
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), pid != root, let stat = ProcStat(pid: pid), stat.parent == root else { continue }
            ticks += stat.user + stat.system
        }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// `ERROR`, `FATAL` and `PANIC` lines of the throwaway server's log (none for a given one).
    func logProblems() -> [String] {
        guard let local, let text = try? String(contentsOf: local.log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { line in
            ["ERROR:", "FATAL:", "PANIC:"].contains { line.contains($0) }
        }.map(String.init)
    }

    /// Stops the throwaway server (`pg_ctl stop -m fast`) and removes its directory; empties a
    /// given database again.
    func stop() {
        guard !stopped else { return }
        stopped = true
        guard let local else {
            try? emptyExternal(checkFirst: false)
            return
        }
        let pgCtl = local.binaries.appendingPathComponent("pg_ctl").path
        if (try? Self.run(pgCtl, ["-D", local.data.path, "-m", "fast", "-w", "-t", "30", "stop"],
                          as: local.user, in: local.directory, what: "pg_ctl stop")) == nil {
            kill(local.postmasterPID, SIGQUIT)
            let deadline = Date().addingTimeInterval(5)
            while kill(local.postmasterPID, 0) == 0 && Date() < deadline { usleep(20_000) }
        }
        try? FileManager.default.removeItem(at: local.directory)
        RunningServers.shared.removeCleanup(local.cleanup)
    }

    /// Drops every table of a given database, after making sure it is empty or chatd's with
    /// only benchmark accounts (`benchseed`, `u00000`…): a real chatd database or another
    /// application's is refused, never emptied.
    private func emptyExternal(checkFirst: Bool) throws {
        if checkFirst {
            let answer = try psql(sql: """
                SELECT CASE
                    WHEN NOT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema()) THEN 'empty'
                    WHEN to_regclass('chatd_migrations') IS NULL OR to_regclass('accounts') IS NULL THEN 'foreign'
                    ELSE 'chatd' END;
                """).trimmingCharacters(in: .whitespacesAndNewlines)
            if answer == "empty" { return }
            var foreign = answer == "foreign"
            if !foreign {
                let count = try psql(sql: "SELECT count(*) FROM accounts WHERE name_key <> '\(BenchAccounts.seedName)' AND name_key !~ '^u[0-9]{5}$';")
                foreign = Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) != 0
            }
            if foreign {
                throw BenchError("the database given with --database holds tables that are not a chat-bench run's (chat-bench empties it before and after a run): give an empty database")
            }
        }
        try psql(sql: """
            DO $$ DECLARE t record; BEGIN
                FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
                    EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(t.tablename) || ' CASCADE';
                END LOOP;
            END $$;
            """)
    }

    // MARK: processes

    /// Runs a PostgreSQL program to its end, as `user` when given (`runuser`, we are root).
    private static func run(_ program: String, _ arguments: [String], as user: String?, in directory: URL, what: String) throws {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", program] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        }
        // PostgreSQL's programs look at the current directory; root's may be closed to them
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            var message = "\(what) failed (\(process.terminationStatus)): " + text.split(separator: "\n").suffix(5).joined(separator: " | ")
            if let user, text.contains("ermission denied") {
                message += " (PostgreSQL runs as \(user): every directory above the work directory must be open to it; try --work-dir /tmp)"
            }
            throw BenchError(message)
        }
    }

    /// Runs `argv` to its end with posix_spawn, output to `output`; returns its exit status.
    ///
    /// For `pg_ctl start`, which leaves the postmaster running: Foundation's `Process` notices
    /// that a child exited when a socket it hands the child closes, and the daemonized postmaster
    /// would inherit that socket and keep it open, so `waitUntilExit()` would wait for PostgreSQL
    /// to stop (swift-corelibs-foundation issue 4795). Here every descriptor of ours is marked
    /// close-on-exec first, so the postmaster inherits none of them.
    private static func spawnAndWait(_ argv: [String], output: URL) throws -> Int32 {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // the signals RunningServers ignores in this process are the server's to handle
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let arguments = argv.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, environ)
        guard spawned == 0 else { throw BenchError("could not run \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchError("waitpid failed for \(argv[0])") }
        }
        // WIFEXITED / WEXITSTATUS
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
    }

    private static func findBinary(_ name: String, in directory: URL?) throws -> String {
        if let directory, FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(name).path) {
            return directory.appendingPathComponent(name).path
        }
        if let path = Install.which(name) { return path }
        throw BenchError("no \(name) found (apt-get install postgresql-client)")
    }

    /// A port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw BenchError("could not find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func tail(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: " | ")
    }
}

extension BenchPostgres {
    /// Where PostgreSQL's programs are, and who runs them.
    fileprivate enum Install {
        /// The newest `/usr/lib/postgresql/VERSION/bin` with initdb in it (Debian keeps the
        /// server's programs off PATH).
        static func binaryDirectory() -> URL? {
            let root = "/usr/lib/postgresql"
            let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
                .compactMap { name in Double(name).map { (number: $0, name: name) } }
                .sorted { $0.0 > $1.0 }
            for (_, version) in versions {
                let bin = URL(fileURLWithPath: root).appendingPathComponent(version).appendingPathComponent("bin")
                if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
            }
            return nil
        }

        /// The directory of initdb on PATH, when pg_ctl and psql are beside it.
        static func onPath() -> URL? {
            guard let initdb = which("initdb") else { return nil }
            let bin = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent()
            let complete = ["pg_ctl", "psql"].allSatisfy { FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent($0).path) }
            return complete ? bin : nil
        }

        static func which(_ name: String) -> String? {
            for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
                let path = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            return nil
        }

        /// `postgres` (Debian's package makes it), else a system user made for the purpose.
        static func unprivilegedUser() throws -> String {
            if getpwnam("postgres") != nil { return "postgres" }
            let name = "chat-bench-pg"
            if getpwnam(name) != nil { return name }
            let add = Process()
            add.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            add.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
            try add.run()
            add.waitUntilExit()
            guard add.terminationStatus == 0, getpwnam(name) != nil else {
                throw BenchError("PostgreSQL does not run as root, and useradd --system \(name) failed")
            }
            return name
        }

        static func chown(_ path: String, to user: String) throws {
            guard let entry = getpwnam(user) else { throw BenchError("no user \(user)") }
            guard Glibc.chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
                throw BenchError("chown \(user) \(path) failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}
