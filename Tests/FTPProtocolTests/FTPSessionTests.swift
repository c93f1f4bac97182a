import NIOCore
import Testing
@testable import FTPProtocol


/// The FTP control-connection state machine, driven command by command without sockets.
@Suite("FTP session")
struct FTPSessionTests {
    /// Where the control connection comes from in these tests.
    static let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 50000)

    func loggedIn(_ configuration: FTPSession.Configuration = .init()) -> FTPSession {
        var session = FTPSession(configuration: configuration, controlPeer: Self.peer)
        _ = session.receive(.user("alice"))
        _ = session.receive(.pass("secret"))
        _ = session.loginVerified(true)
        return session
    }

    func codes(_ actions: [FTPSession.Action]) -> [Int] {
        actions.compactMap { if case .reply(let reply) = $0 { reply.code } else { nil } }
    }

    @Test func loginAsksTheIOLayerToVerify() {
        var session = FTPSession(configuration: .init(), controlPeer: Self.peer)
        #expect(codes(session.receive(.pwd)) == [530], "nothing but the login commands before login")
        #expect(codes(session.receive(.pass("x"))) == [503])
        #expect(codes(session.receive(.user("alice"))) == [331])
        #expect(session.receive(.pass("secret")) == [.verifyLogin(user: "alice", password: "secret")])
        #expect(codes(session.loginVerified(false)) == [530])
        #expect(session.login == .awaitingUser)
        _ = session.receive(.user("alice"))
        _ = session.receive(.pass("right"))
        #expect(codes(session.loginVerified(true)) == [230])
        #expect(codes(session.receive(.pwd)) == [257])
        #expect(codes(session.receive(.user("bob"))) == [503])
    }

    @Test func commandsAllowedBeforeLogin() {
        var session = FTPSession(configuration: .init(), controlPeer: Self.peer)
        #expect(codes(session.receive(.feat)) == [211])
        #expect(codes(session.receive(.syst)) == [215])
        #expect(codes(session.receive(.noop)) == [200])
        #expect(codes(session.receive(.help(nil))) == [214])
        #expect(codes(session.receive(.list(nil))) == [530])
        #expect(codes(session.receive(.stor("x"))) == [530])
        #expect(session.receive(.quit) == [.reply(.goodbye), .close])
        #expect(session.receive(.noop) == [], "nothing is answered after QUIT")
    }

    @Test func anonymousOnlyWhenEnabledAndReadOnly() {
        var closed = FTPSession(configuration: .init(), controlPeer: Self.peer)
        _ = closed.receive(.user("anonymous"))
        #expect(codes(closed.receive(.pass("guest@"))) == [530])
        var open = FTPSession(configuration: .init(anonymousAllowed: true), controlPeer: Self.peer)
        _ = open.receive(.user("ftp"))
        #expect(codes(open.receive(.pass(""))) == [230])
        _ = open.receive(.pasv)
        _ = open.passiveListening(on: try! SocketAddress(ipAddress: "127.0.0.1", port: 40000))
        #expect(codes(open.receive(.stor("x"))) == [550])
        #expect(codes(open.receive(.dele("x"))) == [550])
        #expect(codes(open.receive(.rnfr("x"))) == [550])
        #expect(open.receive(.retr("x")) == [.transfer(.retrieve(name: "x", offset: 0), .passive, .clear)])
    }

    @Test func aFlatRootDirectory() {
        var session = loggedIn()
        #expect(codes(session.receive(.cwd("/"))) == [250])
        #expect(codes(session.receive(.cwd("sub"))) == [550])
        #expect(codes(session.receive(.cdup)) == [250])
        #expect(codes(session.receive(.cwd(".."))) == [250], "the parent of / is /")
        #expect(session.receive(.optsMachineListing) == [.reply(.ok("MLST OPTS type;size;modify;perm;unique;"))])
        #expect(codes(session.receive(.mkd("d"))) == [550])
        #expect(codes(session.receive(.rmd("d"))) == [550])
        #expect(codes(session.receive(.retr("a/b"))) == [550])
        #expect(codes(session.receive(.stor("a/b"))) == [553])
        #expect(FTPSession.fileName("/notes.txt") == "notes.txt")
        #expect(FTPSession.fileName("./my file ") == "my file ")
    }

    @Test func transfersNeedADataEndpoint() throws {
        var session = loggedIn()
        #expect(codes(session.receive(.list(nil))) == [425])
        #expect(session.receive(.epsv(.unspecified)) == [.openPassive(extended: true)])
        #expect(codes(session.receive(.list(nil))) == [503], "still waiting for the listener")
        #expect(codes(session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50001))) == [229])
        #expect(session.receive(.list(nil)) == [.transfer(.listing(.list, path: nil), .passive, .clear)])
        #expect(codes(session.dataConnectionOpened()) == [150])
        #expect(codes(session.receive(.cwd("/"))) == [503], "one command at a time")
        #expect(codes(session.receive(.noop)) == [200])
        #expect(codes(session.finished(.done)) == [226])
        #expect(codes(session.receive(.nlst(nil))) == [425], "a data endpoint serves one transfer")
    }

    @Test func activeModeAndEPSVAll() throws {
        var session = loggedIn()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: 40001)
        #expect(codes(session.receive(.port(target))) == [200])
        #expect(session.receive(.retr("f")) == [.transfer(.retrieve(name: "f", offset: 0), .active(target), .clear)])
        #expect(codes(session.dataConnectionFailed()) == [425])
        #expect(codes(session.receive(.epsv(.all))) == [200])
        #expect(codes(session.receive(.pasv)) == [503])
        #expect(codes(session.receive(.eprt(target))) == [503])
    }

    @Test func restAppliesToTheNextTransferOnly() throws {
        var session = loggedIn()
        _ = session.receive(.epsv(.unspecified))
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50002))
        #expect(codes(session.receive(.rest(100))) == [350])
        #expect(session.receive(.retr("f")) == [.transfer(.retrieve(name: "f", offset: 100), .passive, .clear)])
        _ = session.finished(.done)
        _ = session.receive(.epsv(.unspecified))
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50003))
        #expect(session.receive(.retr("f")) == [.transfer(.retrieve(name: "f", offset: 0), .passive, .clear)])
        _ = session.finished(.done)
        _ = session.receive(.rest(5))
        _ = session.receive(.size("f"))
        _ = session.finished(.size(9))
        _ = session.receive(.epsv(.unspecified))
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50004))
        #expect(session.receive(.stor("f")) == [.transfer(.store(name: "f", offset: 0, append: false), .passive, .clear)],
                "another command between REST and STOR cancels it")
    }

    @Test func renameIsTwoStepsAndChecked() {
        var session = loggedIn()
        #expect(codes(session.receive(.rnto("b"))) == [503])
        #expect(session.receive(.rnfr("a")) == [.perform(.checkRenameSource(name: "a"))])
        #expect(codes(session.finished(.done)) == [350])
        #expect(session.receive(.rnto("b")) == [.perform(.rename(from: "a", to: "b"))])
        #expect(codes(session.finished(.done)) == [250])
        _ = session.receive(.rnfr("a"))
        _ = session.finished(.done)
        _ = session.receive(.noop)
        #expect(codes(session.receive(.rnto("b"))) == [503], "RNTO must follow RNFR directly")
        _ = session.receive(.rnfr("theirs"))
        #expect(codes(session.finished(.failed(.fileUnavailable("theirs belongs to bob")))) == [550])
        #expect(codes(session.receive(.rnto("mine"))) == [503])
    }

    @Test func passiveReplyNeedsIPv4() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        #expect(codes(session.passiveListening(on: try SocketAddress(ipAddress: "::1", port: 50005))) == [425])
        #expect(session.dataEndpoint == nil)
        _ = session.receive(.pasv)
        #expect(codes(session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50006))) == [227])
        #expect(session.dataEndpoint == .passive)
    }

    @Test func activeModeOnlyToTheControlPeerAndHighPorts() throws {
        var session = loggedIn()
        let elsewhere = try SocketAddress(ipAddress: "10.0.0.9", port: 40001)
        let lowPort = try SocketAddress(ipAddress: "127.0.0.1", port: 25)
        let mapped = try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 40002)
        #expect(codes(session.receive(.port(elsewhere))) == [504], "bounce to another host")
        #expect(codes(session.receive(.eprt(lowPort))) == [504], "bounce to a well-known port")
        #expect(session.dataEndpoint == nil, "a refused PORT leaves no endpoint behind")
        #expect(codes(session.receive(.eprt(mapped))) == [200], "IPv4-mapped IPv6 is the same host")
    }

    @Test func aborDuringATransferCutsItAndAnswersTwice() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50010))
        _ = session.receive(.retr("f"))
        _ = session.dataConnectionOpened()
        #expect(session.receive(.abor) == [.abortTransfer])
        #expect(session.receive(.abor) == [], "a second ABOR while the first is under way adds nothing")
        #expect(codes(session.finished(.aborted)) == [426, 226])
        #expect(codes(session.receive(.abor)) == [225], "nothing left to abort")
        #expect(codes(session.receive(.noop)) == [200], "the session goes on")
    }

    @Test func aborThatLosesTheRaceStillGetsItsReply() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50011))
        _ = session.receive(.stor("f"))
        _ = session.receive(.abor)
        #expect(codes(session.finished(.done)) == [226, 226], "the transfer's 226, then ABOR's")
    }

    @Test func aborWhileWaitingForTheDataConnection() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50012))
        _ = session.receive(.list(nil))
        _ = session.receive(.abor)
        #expect(codes(session.dataConnectionFailed()) == [426, 226], "not 425: the client asked for it")
    }

    @Test func aClientCutDataConnectionIs426Alone() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50013))
        _ = session.receive(.stor("f"))
        _ = session.dataConnectionOpened()
        #expect(codes(session.finished(.aborted)) == [426])
    }

    @Test func quitDuringATransferCutsItAndClosesAtOnce() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50014))
        _ = session.receive(.retr("f"))
        #expect(session.receive(.quit) == [.abortTransfer, .reply(.goodbye), .close])
        #expect(session.finished(.aborted) == [], "nothing is sent after 221")
        #expect(session.receive(.noop) == [], "nothing is read after QUIT")
    }

    @Test func idleTimeoutSparesARunningTransfer() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50015))
        _ = session.receive(.retr("f"))
        #expect(session.idleTimedOut() == [], "the data connection has its own timeout")
        _ = session.finished(.done)
        #expect(codes(session.idleTimedOut()) == [421])
        #expect(session.idleTimedOut() == [], "421 once")
    }

    @Test func shutdownCutsTheTransferAndSays421() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50016))
        _ = session.receive(.stor("f"))
        let actions = session.shuttingDown()
        #expect(actions.first == .abortTransfer)
        #expect(codes(actions) == [421])
        #expect(actions.last == .close)
    }

    @Test func lockedLoginSaysWhenToRetry() {
        var session = FTPSession(configuration: .init(), controlPeer: Self.peer)
        _ = session.receive(.user("alice"))
        _ = session.receive(.pass("guess"))
        let reply = session.loginLocked(retryAfterSeconds: 42)
        #expect(codes(reply) == [530])
        #expect(reply == [.reply(FTPReply(530, "Too many failed logins; try again in 42 s."))])
        #expect(session.login == .awaitingUser)
    }

    @Test func statWithAPathListsOverTheControlConnection() {
        var session = loggedIn()
        #expect(session.receive(.stat("/")) == [.perform(.statusListing(path: "/"))])
        let reply = session.finished(.listing(["-rw-r--r-- 1 alice alice 3 Nov 21 10:15 a"]))
        #expect(reply == [.reply(FTPReply(213, lines: ["Status of /:", "-rw-r--r-- 1 alice alice 3 Nov 21 10:15 a", "End of status"]))])
        #expect(codes(session.receive(.stat(nil))) == [211], "without a path: the session's status")
    }

    @Test func mlsdListsOnlyTheDirectory() throws {
        var session = loggedIn()
        _ = session.receive(.pasv)
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50020))
        #expect(codes(session.receive(.mlsd("notes.txt"))) == [501])
        #expect(session.receive(.mlsd("/")) == [.transfer(.listing(.facts, path: "/"), .passive, .clear)])
    }

    // MARK: explicit FTPS (RFC 4217)

    static let tls = FTPSession.Configuration(tlsAvailable: true)
    static let tlsRequired = FTPSession.Configuration(anonymousAllowed: true, tlsAvailable: true, requireTLS: true)

    /// A session that has sent `AUTH TLS` (and, with `protection`, `PBSZ 0` and `PROT`).
    func secured(_ configuration: FTPSession.Configuration = tls, protection: FTPCommand.ProtectionLevel? = nil) -> FTPSession {
        var session = FTPSession(configuration: configuration, controlPeer: Self.peer)
        _ = session.receive(.auth("TLS"))
        if let protection {
            _ = session.receive(.pbsz(0))
            _ = session.receive(.prot(protection))
        }
        return session
    }

    func logIn(_ session: inout FTPSession, as user: String = "alice") {
        _ = session.receive(.user(user))
        _ = session.receive(.pass("secret"))
        _ = session.loginVerified(true)
    }

    func passive(_ session: inout FTPSession) throws {
        _ = session.receive(.epsv(.unspecified))
        _ = session.passiveListening(on: try SocketAddress(ipAddress: "127.0.0.1", port: 50100))
    }

    @Test func featOffersTLSOnlyWithACertificate() {
        var plain = FTPSession(configuration: .init(), controlPeer: Self.peer)
        var tls = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
        guard case .reply(let without)? = plain.receive(.feat).first, case .reply(let with)? = tls.receive(.feat).first else {
            Issue.record("FEAT is not a reply")
            return
        }
        for feature in [" AUTH TLS", " PBSZ", " PROT"] {
            #expect(!without.lines.contains(feature))
            #expect(with.lines.contains(feature))
        }
    }

    @Test func withoutACertificateAUTHPBSZAndPROTAre502() {
        var session = FTPSession(configuration: .init(), controlPeer: Self.peer)
        #expect(session.receive(.auth("TLS")) == [.reply(.tlsNotConfigured)])
        #expect(codes(session.receive(.pbsz(0))) == [502])
        #expect(codes(session.receive(.prot(.private))) == [502])
        #expect(!session.controlSecured)
        logIn(&session)
        #expect(codes(session.receive(.auth("TLS"))) == [502], "the same after login")
    }

    @Test func authTLSSecuresTheControlConnectionOnce() {
        var session = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
        #expect(session.receive(.auth("TLS")) == [.secureControl(after: .authAccepted)], "234, then TLS")
        #expect(session.controlSecured)
        #expect(codes(session.receive(.auth("TLS"))) == [503], "already under TLS")
        #expect(session.dataProtection == .clear, "data stays in clear until PROT P")
        logIn(&session)
        #expect(session.isLoggedIn)
    }

    @Test func authSpellings() {
        for mechanism in ["TLS", "SSL", "TLS-C"] {
            var session = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
            #expect(session.receive(.auth(mechanism)) == [.secureControl(after: .authAccepted)], "AUTH \(mechanism)")
            #expect(session.dataProtection == .clear, "AUTH \(mechanism) does not protect data by itself")
        }
        for mechanism in ["GSSAPI", "KERBEROS_V4", "TLS-P", "X"] {
            var session = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
            #expect(codes(session.receive(.auth(mechanism))) == [504], "AUTH \(mechanism)")
            #expect(!session.controlSecured)
        }
    }

    @Test func authAfterLoginIsRefusedAndBetweenUSERAndPASSForgetsTheUser() {
        var late = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
        logIn(&late)
        #expect(codes(late.receive(.auth("TLS"))) == [503], "the password already crossed in clear")
        #expect(!late.controlSecured)
        #expect(late.isLoggedIn, "the session goes on in clear")

        var between = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
        #expect(codes(between.receive(.user("alice"))) == [331])
        #expect(between.receive(.auth("TLS")) == [.secureControl(after: .authAccepted)])
        #expect(between.login == .awaitingUser, "RFC 2228: after AUTH the user logs in again")
        #expect(codes(between.receive(.pass("secret"))) == [503])

        var verifying = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
        _ = verifying.receive(.user("alice"))
        _ = verifying.receive(.pass("secret"))
        #expect(codes(verifying.receive(.auth("TLS"))) == [503], "not while the password is being checked")
    }

    @Test func pbszAndPROTComeAfterAUTHInOrder() {
        var session = FTPSession(configuration: Self.tls, controlPeer: Self.peer)
        #expect(codes(session.receive(.pbsz(0))) == [503], "PBSZ before AUTH")
        #expect(codes(session.receive(.prot(.private))) == [503], "PROT before AUTH")
        _ = session.receive(.auth("TLS"))
        #expect(codes(session.receive(.prot(.private))) == [503], "PROT before PBSZ")
        #expect(session.dataProtection == .clear)
        #expect(session.receive(.pbsz(1024)) == [.reply(FTPReply(200, "PBSZ=0"))], "any size is answered PBSZ=0")
        #expect(codes(session.receive(.prot(.safe))) == [536])
        #expect(codes(session.receive(.prot(.confidential))) == [536])
        #expect(session.dataProtection == .clear, "a refused PROT changes nothing")
        #expect(codes(session.receive(.prot(.private))) == [200])
        #expect(session.dataProtection == .private)
        #expect(codes(session.receive(.prot(.clear))) == [200])
        #expect(session.dataProtection == .clear)
    }

    @Test func pbszAndPROTAreAnsweredBeforeAndAfterLogin() throws {
        var early = secured(protection: .private)
        #expect(early.dataProtection == .private, "curl and lftp may send them before USER")
        logIn(&early)
        try passive(&early)
        #expect(early.receive(.retr("f")) == [.transfer(.retrieve(name: "f", offset: 0), .passive, .private)])

        var late = secured()
        logIn(&late)
        #expect(codes(late.receive(.pbsz(0))) == [200])
        #expect(codes(late.receive(.prot(.private))) == [200])
        try passive(&late)
        #expect(late.receive(.stor("g")) == [.transfer(.store(name: "g", offset: 0, append: false), .passive, .private)])
        #expect(codes(late.receive(.prot(.clear))) == [503], "not while a transfer runs")
        #expect(late.dataProtection == .private)
    }

    @Test func everyTransferKindCarriesTheProtection() throws {
        var session = secured(protection: .private)
        logIn(&session)
        let transfers: [(FTPCommand, FTPSession.Transfer)] = [
            (.list(nil), .listing(.list, path: nil)), (.nlst(nil), .listing(.names, path: nil)),
            (.mlsd(nil), .listing(.facts, path: nil)), (.retr("a"), .retrieve(name: "a", offset: 0)),
            (.stor("a"), .store(name: "a", offset: 0, append: false)), (.appe("a"), .store(name: "a", offset: 0, append: true)),
        ]
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: 40100)
        for (command, transfer) in transfers {
            try passive(&session)
            #expect(session.receive(command) == [.transfer(transfer, .passive, .private)])
            _ = session.finished(.done)
            _ = session.receive(.eprt(target))
            #expect(session.receive(command) == [.transfer(transfer, .active(target), .private)], "active mode too")
            _ = session.finished(.done)
        }
    }

    @Test func requireTLSRefusesUSERInClear() {
        var session = FTPSession(configuration: Self.tlsRequired, controlPeer: Self.peer)
        #expect(session.receive(.user("alice")) == [.reply(.tlsRequired)])
        #expect(session.login == .awaitingUser, "nothing logged in, not even the name")
        #expect(codes(session.receive(.pass("secret"))) == [503])
        #expect(codes(session.receive(.user("anonymous"))) == [530], "anonymous login follows the same rule")
        #expect(codes(session.receive(.feat)) == [211], "FEAT still tells the client to use AUTH TLS")
        _ = session.receive(.auth("TLS"))
        #expect(codes(session.receive(.user("anonymous"))) == [331])
        #expect(codes(session.receive(.pass("guest@"))) == [230])
    }

    @Test func requireTLSRefusesTransfersInClearWith521() throws {
        var never = secured(Self.tlsRequired)
        logIn(&never)
        try passive(&never)
        #expect(never.receive(.retr("f")) == [.reply(.protectionRequired)], "PROT C is the default after AUTH")
        #expect(never.pending == nil)

        var clear = secured(Self.tlsRequired, protection: .clear)
        logIn(&clear)
        try passive(&clear)
        for command: FTPCommand in [.list(nil), .nlst(nil), .mlsd(nil), .retr("f"), .stor("f"), .appe("f")] {
            #expect(codes(clear.receive(command)) == [521], "\(command.verb) with PROT C")
        }
        #expect(clear.receive(.size("f")) == [.perform(.size(name: "f"))], "commands on the control connection still work")
        _ = clear.finished(.size(1))
        #expect(codes(clear.receive(.prot(.private))) == [200])
        #expect(clear.receive(.retr("f")) == [.transfer(.retrieve(name: "f", offset: 0), .passive, .private)],
                "the passive endpoint waited for the protected transfer")
    }

    @Test func anUploadWithoutCloseNotifyIs426() throws {
        var session = secured(protection: .private)
        logIn(&session)
        try passive(&session)
        _ = session.receive(.stor("f"))
        _ = session.dataConnectionOpened()
        #expect(session.finished(.unconfirmedEnd) == [.reply(.uploadEndNotConfirmed)])
        #expect(FTPReply.uploadEndNotConfirmed.code == 426)
        #expect(codes(session.receive(.noop)) == [200])
    }

    @Test func statTellsWhatIsProtected() {
        var session = secured(protection: .private)
        logIn(&session)
        guard case .reply(let status)? = session.receive(.stat(nil)).first else {
            Issue.record("STAT is not a reply")
            return
        }
        #expect(status.lines.contains("Control connection: TLS"))
        #expect(status.lines.contains("Data connections: TLS (PROT P)"))
    }
}
