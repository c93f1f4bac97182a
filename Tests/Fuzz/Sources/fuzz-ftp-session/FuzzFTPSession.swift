import FTPProtocol
import FTPReplyChecks
import FuzzSupport
import NIOCore

/// Fuzzes ``FTPSession``, the FTP server's state machine, driven the way `FTPConnection` drives it:
/// lines go through ``FTPCommand/parse(_:)``; `openPassive` and `perform` are answered at once
/// (the connection runs them inline); a password check and a transfer answer later, in any order
/// with further commands; nothing is read after a `close`.
///
/// The input chooses the configuration (anonymous, TLS available, TLS required), the control
/// connection's peer, and then a sequence of events: commands (a verb and an argument from a list
/// of interesting ones, or a raw line), the password check's result, the running transfer's data
/// connection opening, failing or finishing, idle ticks and shutdown.
///
/// Properties, checked after every event:
/// - every reply is well-formed with a code from 100 to 599 (FTPReplyChecks);
/// - the session is logged in only after a successful password check for the user named by
///   `USER`, or as an anonymous user where anonymous logins are allowed; logged in, it stays so as
///   that user; under `--ftp-require-tls` only on a control connection under TLS;
/// - the password check gets the `USER` name and the `PASS` argument;
/// - `AUTH TLS` is taken only with a certificate, once, and not after `USER`'s password was sent;
/// - transfers and file operations only when logged in; nothing that writes for anonymous users;
///   with `--ftp-require-tls` no transfer in clear; active connections only to the control
///   connection's host and a port from 1024 up; names without `/`; a transfer starts at an offset
///   only after a `REST` for it;
/// - one thing at a time: no transfer, operation or passive listener is started while another
///   is still running;
/// - every command is answered, and so is the end of every transfer (unless the session is closing).
@main enum FuzzFTPSession {
    static func main() { runLibFuzzer(fuzz) }
}

let peers: [SocketAddress] = [
    try! SocketAddress(ipAddress: "127.0.0.1", port: 40000),
    try! SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 40000),
    try! SocketAddress(ipAddress: "::1", port: 40000),
]

let verbs = FTPCommand.verbs + ["XYZ", "SITE"]

let arguments: [String?] = [
    nil, "a.txt", "/a.txt", "./b", "dir/x", "/", "..", ".", "anonymous", "FTP", "alice", "TLS", "SSL", "TLS-C",
    "KERBEROS", "C", "P", "S", "E", "0", "1", "2", "ALL", "I", "A", "1048576", "127,0,0,1,4,1", "127,0,0,1,0,21",
    "10,0,0,1,4,1", "|1|127.0.0.1|2000|", "|2|::1|2000|", "|2|::ffff:127.0.0.1|5000|", "-la", "UTF8 ON",
    "UTF8 OFF", "MLST type;", "1 R 2", "x\r\n230 forged",
]

/// What the harness knows beyond the session's own state, as the connection would.
struct Driver {
    var input: [UInt8]
    var session: FTPSession
    var reader: FuzzReader
    var loginRunning = false
    var transferRunning = false
    var dataOpened = false
    var closed = false
    var lastRestOffset: Int64?

    enum Event {
        case command(FTPCommand)
        case login
        case dataOpened
        case dataFailed
        case transferFinished
        case tick
        case shutdown
    }

    mutating func run() {
        while !reader.isEmpty, !closed {
            step()
        }
    }

    mutating func step() {
        let before = session
        var event: Event
        var actions: [FTPSession.Action]
        switch reader.choice(16) {
        case 0...8:
            let line = commandLine()
            switch FTPCommand.parse(line) {
            case .success(let command):
                event = .command(command)
                actions = session.receive(command)
            case .failure(let reply):
                checkReply(reply, input: input)
                return
            }
        case 9:
            guard loginRunning else { return }
            loginRunning = false
            event = .login
            switch reader.choice(3) {
            case 0: actions = session.loginVerified(true)
            case 1: actions = session.loginVerified(false)
            default: actions = session.loginLocked(retryAfterSeconds: Int(reader.uint64(bytes: 2)))
            }
        case 10:
            guard transferRunning, !dataOpened else { return }
            dataOpened = true
            event = .dataOpened
            actions = session.dataConnectionOpened()
        case 11:
            guard transferRunning, !dataOpened else { return }
            transferRunning = false
            event = .dataFailed
            actions = session.dataConnectionFailed()
        case 12, 13:
            guard transferRunning else { return }
            transferRunning = false
            event = .transferFinished
            actions = session.finished(outcome())
        case 14:
            event = .tick
            actions = session.idleTimedOut()
        default:
            event = .shutdown
            actions = session.shuttingDown()
        }
        actions = performInline(actions)
        checkStep(event: event, before: before, actions: actions)
    }

    /// A command line: a verb and an argument from the lists, or raw bytes.
    mutating func commandLine() -> [UInt8] {
        let choice = reader.byte()
        if choice == 0xFF { return reader.chunk() }
        let verb = verbs[Int(choice) % verbs.count]
        let argumentChoice = reader.byte()
        let argument = argumentChoice == 0xFF
            ? String(decoding: reader.chunk(), as: UTF8.self) : arguments[Int(argumentChoice) % arguments.count]
        return Array((argument.map { "\(verb) \($0)" } ?? verb).utf8) + [0x0D, 0x0A]
    }

    /// Answers `openPassive` and `perform` at once, as the connection does, and notes what runs on.
    mutating func performInline(_ initial: [FTPSession.Action]) -> [FTPSession.Action] {
        var all: [FTPSession.Action] = []
        var queue = initial[...]
        while let action = queue.popFirst() {
            all.append(action)
            switch action {
            case .openPassive:
                if reader.choice(4) == 0 {
                    queue.append(contentsOf: session.passiveFailed())
                } else {
                    let port = Int(reader.uint64(bytes: 2))
                    let host = reader.bool() ? "::1" : "127.0.0.1"
                    queue.append(contentsOf: session.passiveListening(on: try! SocketAddress(ipAddress: host, port: port)))
                }
            case .perform:
                queue.append(contentsOf: session.finished(outcome()))
            case .verifyLogin:
                loginRunning = true
            case .transfer:
                transferRunning = true
                dataOpened = false
            case .close:
                closed = true
            default:
                break
            }
        }
        return all
    }

    mutating func outcome() -> FTPSession.Outcome {
        switch reader.choice(8) {
        case 0: .done
        case 1: .size(Int64(bitPattern: reader.uint64()))
        case 2: .modificationTime(text())
        case 3: .facts(text())
        case 4: .listing((0..<reader.choice(4)).map { _ in text() })
        case 5: .failed(refusal())
        case 6: .aborted
        default: .unconfirmedEnd
        }
    }

    /// One of the replies the file area gives a refusal (`FTPReply(refusing:)` in ChatFTP), with
    /// text as a file name or an owner would put in it.
    mutating func refusal() -> FTPReply {
        switch reader.choice(6) {
        case 0: .nameNotAllowed(text())
        case 1: .fileUnavailable(text())
        case 2: .storageExceeded(text())
        case 3: .insufficientStorage
        case 4: .invalidRestartOffset(text())
        default: .localError(text())
        }
    }

    mutating func text() -> String {
        String(decoding: reader.take(reader.choice(24)), as: UTF8.self)
    }

    mutating func checkStep(event: Event, before: FTPSession, actions: [FTPSession.Action]) {
        let configuration = session.configuration
        func require(_ condition: Bool, _ message: @autoclosure () -> String) {
            check(condition, "\(message()) (event \(event), before: \(before), actions: \(actions))", input: input)
        }

        // Logging in.
        if case .loggedIn = before.login {
            require(session.login == before.login, "a logged-in session changed its login to \(session.login)")
        } else if case .loggedIn(let user, let anonymous) = session.login {
            switch (event, before.login) {
            case (.login, .verifying(let checked)):
                require(!anonymous && user == checked, "logged in as \(user) after checking \(checked)")
            case (.command(.pass), .awaitingPassword(let named)):
                require(anonymous && user == named && FTPSession.isAnonymousName(user) && configuration.anonymousAllowed,
                        "logged in by PASS without a password check")
            default:
                require(false, "logged in without a password")
            }
        }
        if session.isAnonymous { require(configuration.anonymousAllowed, "anonymous login where it is not allowed") }
        if configuration.requireTLS, session.isLoggedIn { require(session.controlSecured, "logged in in clear under --ftp-require-tls") }
        if !configuration.tlsAvailable { require(!session.controlSecured, "control connection under TLS without a certificate") }

        let startsIO = actions.contains { action in
            switch action {
            case .openPassive, .transfer, .perform: true
            default: false
            }
        }
        if startsIO {
            require(before.pending == nil, "started more I/O while \(String(describing: before.pending)) was running")
        }

        for action in actions {
            switch action {
            case .reply(let reply):
                checkReply(reply, input: input)
            case .secureControl(let reply):
                checkReply(reply, input: input)
                require(configuration.tlsAvailable && !before.controlSecured, "AUTH TLS taken twice or without a certificate")
                if case .command(.auth) = event {} else { require(false, "TLS started without AUTH") }
                switch before.login {
                case .loggedIn, .verifying: require(false, "AUTH TLS taken after the password was sent")
                default: break
                }
            case .verifyLogin(let user, let password):
                guard case .command(.pass(let sent)) = event, case .awaitingPassword(let named) = before.login else {
                    require(false, "a password check without PASS after USER")
                    break
                }
                require(user == named && password == sent, "the password check got \(user)/\(password)")
            case .openPassive:
                require(before.isLoggedIn, "a passive listener before login")
            case .transfer(let transfer, let endpoint, let protection):
                require(before.isLoggedIn, "a transfer before login")
                if configuration.requireTLS { require(protection == .private, "a transfer in clear under --ftp-require-tls") }
                if case .active(let target) = endpoint {
                    require(FTPAddress.isAllowedActiveTarget(target, controlPeer: session.controlPeer), "an active connection to \(target)")
                }
                switch transfer {
                case .listing: break
                case .retrieve(let name, let offset):
                    checkName(name, require)
                    if offset != 0 { require(offset == lastRestOffset, "RETR at \(offset) without REST \(offset)") }
                case .store(let name, let offset, let append):
                    checkName(name, require)
                    require(!before.isAnonymous, "an anonymous upload")
                    if offset != 0 { require(!append && offset == lastRestOffset, "STOR at \(offset) without REST \(offset)") }
                }
            case .perform(let operation):
                require(before.isLoggedIn, "a file operation before login")
                switch operation {
                case .delete(let name), .checkRenameSource(let name):
                    checkName(name, require)
                    require(!before.isAnonymous, "an anonymous user changes files")
                case .rename(let from, let to):
                    checkName(from, require)
                    checkName(to, require)
                    require(!before.isAnonymous, "an anonymous user changes files")
                case .size(let name), .modificationTime(let name):
                    checkName(name, require)
                case .facts(let name):
                    if !name.isEmpty { checkName(name, require) }
                case .statusListing:
                    break
                }
            case .abortTransfer, .close:
                break
            }
        }

        let answered = actions.contains { action in
            switch action {
            case .reply, .secureControl, .verifyLogin, .transfer, .abortTransfer: true
            default: false
            }
        }
        switch event {
        case .command(let command) where !before.isClosing:
            if command == .abor, before.abortRequested { break }
            require(answered, "\(command) was not answered")
        case .dataFailed, .transferFinished:
            if !session.isClosing { require(answered, "the end of a transfer was not answered") }
        default:
            break
        }

        if case .command(.rest(let offset)) = event, actions.contains(where: { if case .reply(let reply) = $0 { reply.code == 350 } else { false } }) {
            lastRestOffset = offset
        }
    }

    func checkName(_ name: String, _ require: (Bool, @autoclosure () -> String) -> Void) {
        require(!name.isEmpty && !name.contains("/"), "the file name \(name.debugDescription)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = inputBytes(start, count)
    var reader = FuzzReader(input)
    let flags = reader.byte()
    let configuration = FTPSession.Configuration(anonymousAllowed: flags & 1 != 0, tlsAvailable: flags & 2 != 0, requireTLS: flags & 4 != 0)
    let peer = peers[reader.choice(peers.count)]
    var driver = Driver(input: input, session: FTPSession(configuration: configuration, controlPeer: peer), reader: reader)
    driver.run()
    return 0
}
