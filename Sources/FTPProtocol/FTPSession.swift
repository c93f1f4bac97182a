import NIOCore

/// One FTP control connection as a pure state machine (RFC 959 and extensions): a command or an
/// I/O result goes in, the session's new state and the actions to take come out. The NIO layer
/// around it only reads lines, performs the actions (checking a password, opening a data
/// connection, calling the ``FileStore``) and feeds their results back; every reply code and
/// every ordering rule is decided here, so it is tested without sockets.
///
/// The file area is one flat directory `/`: paths name a file in it, with or without a leading
/// `/`; anything deeper does not exist.
///
/// Explicit FTPS (RFC 4217) is part of the state: `AUTH TLS` secures the control connection from
/// the next byte on, `PBSZ` and `PROT` choose whether data connections run TLS, and with
/// `--ftp-require-tls` nothing is logged in and nothing is transferred in clear.
public struct FTPSession: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// `--ftp-anonymous`: `anonymous`/`ftp` may log in with any password, read-only.
        public var anonymousAllowed = false
        /// Whether the server has a certificate, so `AUTH TLS` can be offered.
        public var tlsAvailable = false
        /// `--ftp-require-tls`: `USER` before `AUTH TLS` is refused.
        public var requireTLS = false

        public init(anonymousAllowed: Bool = false, tlsAvailable: Bool = false, requireTLS: Bool = false) {
            self.anonymousAllowed = anonymousAllowed
            self.tlsAvailable = tlsAvailable
            self.requireTLS = requireTLS
        }
    }

    public enum Login: Sendable, Equatable {
        case awaitingUser
        case awaitingPassword(user: String)
        /// The password is being checked by the I/O layer (bcrypt, lockout, delay).
        case verifying(user: String)
        case loggedIn(user: String, anonymous: Bool)
    }

    /// Where the next transfer's data connection comes from.
    public enum DataEndpoint: Sendable, Equatable {
        /// A listener opened after `PASV`/`EPSV`, accepting only the control connection's peer.
        case passive
        /// `PORT`/`EPRT`: connect to this address (already checked against the bounce rule).
        case active(SocketAddress)
    }

    public enum ListingFormat: Sendable, Equatable { case list, names, facts }

    /// Whether data connections run TLS (`PROT`, RFC 4217 §9). `PROT S` and `PROT E` have no TLS
    /// form and are refused, so these are the only two.
    public enum DataProtection: Sendable, Equatable {
        /// `PROT C`, the default: data in clear even under `AUTH TLS`.
        case clear
        /// `PROT P`: TLS on every data connection, the server as TLS server in both modes.
        case `private`
    }

    /// A data-connection transfer for the I/O layer to run.
    public enum Transfer: Sendable, Equatable {
        case listing(ListingFormat, path: String?)
        case retrieve(name: String, offset: Int64)
        case store(name: String, offset: Int64, append: Bool)
    }

    /// A control-connection file operation for the I/O layer to run.
    public enum Operation: Sendable, Equatable {
        case delete(name: String)
        case rename(from: String, to: String)
        case size(name: String)
        case modificationTime(name: String)
        case facts(name: String)
        /// `STAT path`: the `LIST` lines of `path`, sent over the control connection.
        case statusListing(path: String)
        /// `RNFR`: only checks that the file exists and belongs to the user.
        case checkRenameSource(name: String)
    }

    public enum Action: Sendable, Equatable {
        case reply(FTPReply)
        /// Send the reply (`234`) in clear, then put TLS in front of the control connection as the
        /// write completes, before anything more is read: the client's next bytes are its
        /// ClientHello. Anything it sent in clear after `AUTH` closes the connection instead.
        case secureControl(after: FTPReply)
        case verifyLogin(user: String, password: String)
        case openPassive(extended: Bool)
        case transfer(Transfer, DataEndpoint, DataProtection)
        case perform(Operation)
        /// Close the running transfer's data connection; its ``Outcome`` follows as `.aborted`.
        case abortTransfer
        case close
    }

    /// What an ``Operation`` or ``Transfer`` came to.
    public enum Outcome: Sendable, Equatable {
        case done
        case size(Int64)
        case modificationTime(String)
        case facts(String)
        case listing([String])
        /// Refused or failed, with the reply that says why (the file area chooses it: see
        /// `FTPReply(refusing:)` in ChatFTP).
        case failed(FTPReply)
        /// The data connection closed before the transfer finished: `ABOR`, the client, or a
        /// data-connection timeout.
        case aborted
        /// An upload under TLS whose data connection ended without the client's close_notify.
        /// A cut connection ends the same way, so the end of the file is not proven and nothing
        /// was stored.
        case unconfirmedEnd
    }

    public let configuration: Configuration
    /// The control connection's peer: the only host `PORT`/`EPRT` may name (RFC 2577).
    public let controlPeer: SocketAddress
    public private(set) var login = Login.awaitingUser
    public private(set) var transferType = FTPCommand.TransferType.ascii
    public private(set) var dataEndpoint: DataEndpoint?
    /// `REST`: the offset of the next `RETR`/`STOR`; any other command clears it.
    public private(set) var restartOffset: Int64?
    /// `RNFR` accepted; the next command must be `RNTO`.
    public private(set) var renameSource: String?
    /// After `EPSV ALL` the client promised to use only `EPSV` (RFC 2428).
    public private(set) var extendedPassiveOnly = false
    /// Waiting for the I/O layer: a transfer, an operation or a passive listener.
    public private(set) var pending: Pending?
    /// `ABOR` arrived while a transfer ran: its end is answered 426 and then 226 (RFC 959 §4.1.3).
    public private(set) var abortRequested = false
    /// The control connection is closing (`QUIT` during a transfer, shutdown): nothing more is read.
    public private(set) var isClosing = false
    /// `AUTH TLS` was accepted: every byte after it on the control connection is under TLS.
    public private(set) var controlSecured = false
    /// `PBSZ` was accepted, which RFC 4217 §9 requires before `PROT`.
    public private(set) var protectionBufferSizeSet = false
    public private(set) var dataProtection = DataProtection.clear

    public enum Pending: Sendable, Equatable {
        case transfer(Transfer)
        case operation(Operation)
        case passive(extended: Bool)
    }

    public init(configuration: Configuration, controlPeer: SocketAddress) {
        self.configuration = configuration
        self.controlPeer = controlPeer
    }

    public var isLoggedIn: Bool {
        if case .loggedIn = login { return true }
        return false
    }

    public var isAnonymous: Bool {
        if case .loggedIn(_, let anonymous) = login { return anonymous }
        return false
    }

    // MARK: commands

    public mutating func receive(_ command: FTPCommand) -> [Action] {
        let offset = restartOffset
        let source = renameSource
        if !Self.keepsRestartOffset(command) { restartOffset = nil }
        if case .rnto = command {} else { renameSource = nil }

        guard !isClosing else { return [] }
        switch command {
        case .quit:
            isClosing = true
            if case .transfer? = pending { return [.abortTransfer, .reply(.goodbye), .close] }
            return [.reply(.goodbye), .close]
        case .noop:
            return [.reply(.commandOK)]
        case .syst:
            return [.reply(.system)]
        case .feat:
            let tls = configuration.tlsAvailable ? ["AUTH TLS", "PBSZ", "PROT"] : []
            return [.reply(.features(["UTF8", "EPSV", "EPRT", "PASV", "REST STREAM", "SIZE", "MDTM",
                                      "MLST type*;size*;modify*;perm*;unique*"] + tls))]
        case .help:
            return [.reply(.help(["Commands: " + FTPCommand.verbs.joined(separator: " ")]))]
        case .user(let user):
            if isLoggedIn { return [.reply(.badSequence("Already logged in."))] }
            if configuration.requireTLS, !controlSecured { return [.reply(.tlsRequired)] }
            login = .awaitingPassword(user: user)
            return [.reply(.needPassword)]
        case .pass(let password):
            guard case .awaitingPassword(let user) = login else {
                return [.reply(.badSequence(isLoggedIn ? "Already logged in." : "Send USER first."))]
            }
            if Self.isAnonymousName(user) {
                guard configuration.anonymousAllowed else {
                    login = .awaitingUser
                    return [.reply(.loginIncorrect)]
                }
                login = .loggedIn(user: user, anonymous: true)
                return [.reply(.loggedIn)]
            }
            login = .verifying(user: user)
            return [.verifyLogin(user: user, password: password)]
        case .auth(let mechanism):
            return authenticate(mechanism)
        // Answered before login too: clients send them right after AUTH or right after PASS.
        case .pbsz:
            if let refusal = protectionCommandRefusal { return [.reply(refusal)] }
            protectionBufferSizeSet = true
            return [.reply(.protectionBufferSize)]
        case .prot(let level):
            return protect(level)
        default:
            break
        }

        guard isLoggedIn else { return [.reply(.notLoggedIn)] }
        guard pending == nil || Self.allowedWhilePending(command) else {
            return [.reply(.badSequence("Wait for the running command to finish."))]
        }

        switch command {
        case .opts(let utf8):
            return [.reply(utf8 ? .ok("UTF8 mode always on.") : .notImplementedForParameter("UTF8 cannot be turned off."))]
        case .optsMachineListing:
            return [.reply(.ok("MLST OPTS type;size;modify;perm;unique;"))]
        case .pwd:
            return [.reply(.pathname("/"))]
        case .cwd(let path):
            return [.reply(Self.isRoot(path) ? .fileActionOK("Directory is /.") : .fileUnavailable("No such directory."))]
        case .cdup:
            return [.reply(.fileActionOK("Directory is /."))]
        case .type(let type):
            transferType = type
            return [.reply(.ok(type == .image ? "Type set to I." : "Type set to A."))]
        case .mode, .stru:
            return [.reply(.commandOK)]
        case .allo:
            return [.reply(.superfluous)]
        case .mkd, .rmd:
            return [.reply(.fileUnavailable("The file area has no subdirectories."))]
        case .rest(let value):
            restartOffset = value
            return [.reply(.pendingFurtherInformation("Restarting at \(value). Send RETR or STOR."))]
        case .pasv, .epsv(.unspecified), .epsv(.networkProtocol):
            let extended: Bool
            if case .pasv = command {
                if extendedPassiveOnly { return [.reply(.badSequence("EPSV ALL was sent: use EPSV."))] }
                extended = false
            } else {
                extended = true
            }
            pending = .passive(extended: extended)
            return [.openPassive(extended: extended)]
        case .epsv(.all):
            extendedPassiveOnly = true
            return [.reply(.ok("EPSV ALL accepted."))]
        case .port(let address), .eprt(let address):
            if extendedPassiveOnly { return [.reply(.badSequence("EPSV ALL was sent: use EPSV."))] }
            guard FTPAddress.isAllowedActiveTarget(address, controlPeer: controlPeer) else {
                return [.reply(.notImplementedForParameter(
                    "Active mode connects only to your own address and a port from \(FTPAddress.lowestActivePort) up."))]
            }
            dataEndpoint = .active(address)
            return [.reply(.ok("Active data connection to \(address.ipAddress ?? "?") port \(address.port ?? 0)."))]
        case .list(let path):
            return startTransfer(.listing(.list, path: path))
        case .nlst(let path):
            return startTransfer(.listing(.names, path: path))
        case .mlsd(let path):
            // Only `/` is a directory; RFC 3659 §7.1 answers MLSD of anything else with 501.
            if let path, !Self.isRoot(path) {
                return [.reply(.syntaxErrorInArguments("MLSD lists directories and / is the only one; use MLST for a file."))]
            }
            return startTransfer(.listing(.facts, path: path))
        case .retr(let path):
            guard let name = Self.fileName(path) else { return [.reply(.fileUnavailable("No such file."))] }
            return startTransfer(.retrieve(name: name, offset: offset ?? 0))
        case .stor(let path), .appe(let path):
            guard !isAnonymous else { return [.reply(.fileUnavailable("Anonymous users may only read."))] }
            guard let name = Self.fileName(path) else { return [.reply(.nameNotAllowed("Names may not contain '/'."))] }
            var append = false
            if case .appe = command { append = true }
            return startTransfer(.store(name: name, offset: append ? 0 : (offset ?? 0), append: append))
        case .dele(let path):
            guard !isAnonymous else { return [.reply(.fileUnavailable("Anonymous users may only read."))] }
            guard let name = Self.fileName(path) else { return [.reply(.fileUnavailable("No such file."))] }
            return perform(.delete(name: name))
        case .rnfr(let path):
            guard !isAnonymous else { return [.reply(.fileUnavailable("Anonymous users may only read."))] }
            guard let name = Self.fileName(path) else { return [.reply(.fileUnavailable("No such file."))] }
            return perform(.checkRenameSource(name: name))
        case .rnto(let path):
            guard let from = source else { return [.reply(.badSequence("Send RNFR first."))] }
            renameSource = nil
            guard let to = Self.fileName(path) else { return [.reply(.nameNotAllowed("Names may not contain '/'."))] }
            return perform(.rename(from: from, to: to))
        case .size(let path):
            guard let name = Self.fileName(path) else { return [.reply(.fileUnavailable("No such file."))] }
            return perform(.size(name: name))
        case .mdtm(let path):
            guard let name = Self.fileName(path) else { return [.reply(.fileUnavailable("No such file."))] }
            return perform(.modificationTime(name: name))
        case .mlst(let path):
            guard let path, !Self.isRoot(path) else { return perform(.facts(name: "")) }
            guard let name = Self.fileName(path) else { return [.reply(.fileUnavailable("No such file."))] }
            return perform(.facts(name: name))
        case .abor:
            guard case .transfer? = pending else { return [.reply(.noTransferToAbort)] }
            guard !abortRequested else { return [] }
            abortRequested = true
            return [.abortTransfer]
        case .stat(let path?):
            // during a transfer only the bare STAT (its status) may run: a listing would take the
            // transfer's place in `pending`, and its end would find nothing to answer 226 for
            if pending != nil { return [.reply(.badSequence("Wait for the running command to finish."))] }
            return perform(.statusListing(path: path))
        case .stat(nil):
            return [.reply(.systemStatus([
                "chatd FTP", "Logged in", transferType == .image ? "TYPE: BINARY" : "TYPE: ASCII",
                controlSecured ? "Control connection: TLS" : "Control connection: clear",
                dataProtection == .private ? "Data connections: TLS (PROT P)" : "Data connections: clear (PROT C)",
            ]))]
        case .quit, .noop, .syst, .feat, .help, .user, .pass, .auth, .pbsz, .prot:
            return []  // answered above
        }
    }

    // MARK: results from the I/O layer

    public mutating func loginVerified(_ success: Bool) -> [Action] {
        guard case .verifying(let user) = login else { return [] }
        if success {
            login = .loggedIn(user: user, anonymous: false)
            return [.reply(.loggedIn)]
        }
        login = .awaitingUser
        return [.reply(.loginIncorrect)]
    }

    /// The name or the address is locked out after too many failures (shared with HTTP login).
    public mutating func loginLocked(retryAfterSeconds: Int) -> [Action] {
        guard case .verifying = login else { return [] }
        login = .awaitingUser
        return [.reply(FTPReply(530, "Too many failed logins; try again in \(retryAfterSeconds) s."))]
    }

    public mutating func passiveListening(on address: SocketAddress) -> [Action] {
        guard case .passive(let extended)? = pending else { return [] }
        pending = nil
        dataEndpoint = .passive
        if extended {
            return [.reply(.enteringExtendedPassive(port: address.port ?? 0))]
        }
        guard let reply = FTPReply.enteringPassive(address) else {
            dataEndpoint = nil
            return [.reply(.cannotOpenData("PASV needs IPv4; use EPSV."))]
        }
        return [.reply(reply)]
    }

    public mutating func passiveFailed() -> [Action] {
        guard case .passive? = pending else { return [] }
        pending = nil
        return [.reply(.cannotOpenData("No passive port is free."))]
    }

    /// The control connection sat idle for the idle timeout. A running transfer keeps it open:
    /// the data connection has a timeout of its own.
    public mutating func idleTimedOut() -> [Action] {
        guard !isClosing, pending == nil else { return [] }
        isClosing = true
        return [.reply(.serviceNotAvailable("Idle timeout; closing the control connection.")), .close]
    }

    /// The server is shutting down: a running transfer is cut, the client told why.
    public mutating func shuttingDown() -> [Action] {
        guard !isClosing else { return [] }
        isClosing = true
        let abort: [Action] = if case .transfer? = pending { [.abortTransfer] } else { [] }
        return abort + [.reply(.serviceNotAvailable("The server is shutting down.")), .close]
    }

    /// The data connection was opened (the transfer is starting).
    public func dataConnectionOpened() -> [Action] {
        guard case .transfer? = pending else { return [] }
        return [.reply(.openingData)]
    }

    public mutating func dataConnectionFailed() -> [Action] {
        guard case .transfer? = pending else { return [] }
        if abortRequested || isClosing { return finished(.aborted) }
        pending = nil
        dataEndpoint = nil
        return [.reply(.cannotOpenData("Cannot open the data connection."))]
    }

    public mutating func finished(_ outcome: Outcome) -> [Action] {
        guard let pending else { return [] }
        self.pending = nil
        let aborting = abortRequested
        abortRequested = false
        if case .transfer = pending { dataEndpoint = nil }
        if isClosing { return [] }
        switch (pending, outcome) {
        case (.transfer, .done):
            return [.reply(.transferComplete)] + (aborting ? [.reply(.abortSuccessful)] : [])
        case (.transfer, .aborted):
            return [.reply(.transferAborted)] + (aborting ? [.reply(.abortSuccessful)] : [])
        case (.transfer, .unconfirmedEnd):
            return [.reply(.uploadEndNotConfirmed)] + (aborting ? [.reply(.abortSuccessful)] : [])
        case (.transfer, .failed(let error)):
            return [.reply(error)] + (aborting ? [.reply(.abortSuccessful)] : [])
        case (.operation(.checkRenameSource(let name)), .done):
            renameSource = name
            return [.reply(.pendingFurtherInformation("Ready for RNTO."))]
        case (.operation(.delete), .done):
            return [.reply(.fileActionOK("Deleted."))]
        case (.operation(.rename), .done):
            return [.reply(.fileActionOK("Renamed."))]
        case (.operation, .size(let size)):
            return [.reply(.fileSize(size))]
        case (.operation, .modificationTime(let value)):
            return [.reply(.modificationTime(value))]
        case (.operation(.statusListing(let path)), .listing(let lines)):
            return [.reply(.statusListing(path: path, lines: lines))]
        case (.operation(.facts(let name)), .facts(let facts)):
            return [.reply(.machineListing(path: name.isEmpty ? "/" : name, facts: facts))]
        case (.operation, .failed(let error)):
            return [.reply(error)]
        default:
            return [.reply(.localError("Unexpected result."))]
        }
    }

    // MARK: rules

    private mutating func startTransfer(_ transfer: Transfer) -> [Action] {
        if configuration.requireTLS, dataProtection == .clear { return [.reply(.protectionRequired)] }
        guard let endpoint = dataEndpoint else {
            return [.reply(.cannotOpenData("Use PASV, EPSV, PORT or EPRT first."))]
        }
        pending = .transfer(transfer)
        return [.transfer(transfer, endpoint, dataProtection)]
    }

    /// `AUTH` (RFC 2228, 4217). `SSL` and the draft's `TLS-C` are spellings of `TLS` that older
    /// clients (and curl, first) send; the data connections stay in clear until `PROT P` for all three.
    ///
    /// Refused after login: the password has already crossed in clear, and RFC 2228 would make
    /// the client log in again anyway; a client that wants TLS sends `AUTH` first, as all do.
    /// Between `USER` and `PASS` it is accepted and, as RFC 2228 asks, the `USER` forgotten.
    private mutating func authenticate(_ mechanism: String) -> [Action] {
        guard configuration.tlsAvailable else { return [.reply(.tlsNotConfigured)] }
        guard !controlSecured else { return [.reply(.badSequence("The control connection is already under TLS."))] }
        guard Self.tlsMechanisms.contains(mechanism) else {
            return [.reply(.notImplementedForParameter("Only AUTH TLS is supported."))]
        }
        switch login {
        case .loggedIn, .verifying:
            return [.reply(.badSequence("Already logged in: send AUTH TLS before USER so that the password is protected too."))]
        case .awaitingPassword:
            login = .awaitingUser
        case .awaitingUser:
            break
        }
        controlSecured = true
        return [.secureControl(after: .authAccepted)]
    }

    /// The `AUTH` mechanisms that mean TLS.
    private static let tlsMechanisms: Set<String> = ["TLS", "TLS-C", "SSL"]

    /// Why `PBSZ` or `PROT` cannot be taken now (RFC 4217 §9: only under TLS), if they cannot.
    private var protectionCommandRefusal: FTPReply? {
        if !configuration.tlsAvailable { return .tlsNotConfigured }
        if pending != nil { return .badSequence("Wait for the running command to finish.") }
        if !controlSecured { return .badSequence("Send AUTH TLS first.") }
        return nil
    }

    /// `PROT`, after `PBSZ`. Under `--ftp-require-tls` `PROT C` is still accepted: the transfers
    /// it would leave in clear are what is refused, with RFC 4217's 521, so that one rule also
    /// covers a client that never sends `PROT` (clear is the default).
    private mutating func protect(_ level: FTPCommand.ProtectionLevel) -> [Action] {
        if let refusal = protectionCommandRefusal { return [.reply(refusal)] }
        guard protectionBufferSizeSet else { return [.reply(.badSequence("Send PBSZ 0 first."))] }
        switch level {
        case .clear:
            dataProtection = .clear
            return [.reply(.ok(configuration.requireTLS
                ? "Data connections in clear (PROT C); this server refuses transfers in clear (521)."
                : "Data connections in clear (PROT C)."))]
        case .private:
            dataProtection = .private
            return [.reply(.ok("Data connections protected by TLS (PROT P)."))]
        case .safe, .confidential:
            return [.reply(.protectionLevelNotSupported)]
        }
    }

    private mutating func perform(_ operation: Operation) -> [Action] {
        pending = .operation(operation)
        return [.perform(operation)]
    }

    /// `REST` applies to the command right after it; anything else in between cancels it.
    private static func keepsRestartOffset(_ command: FTPCommand) -> Bool {
        switch command {
        case .rest, .noop, .type, .pasv, .epsv, .port, .eprt: true
        default: false
        }
    }

    /// `ABOR`, `STAT`, `NOOP` and `QUIT` may arrive while a transfer runs.
    private static func allowedWhilePending(_ command: FTPCommand) -> Bool {
        switch command {
        case .abor, .stat, .noop, .quit: true
        default: false
        }
    }

    public static func isAnonymousName(_ user: String) -> Bool {
        ["anonymous", "ftp"].contains(user.lowercased())
    }

    /// Whether a path names `/`: also `..`, because the parent of the root is the root.
    public static func isRoot(_ path: String) -> Bool {
        ["/", ".", "./", "/.", "", "..", "/..", "../"].contains(path)
    }

    /// The file a path names in the flat area, or `nil` if it names a subdirectory.
    public static func fileName(_ path: String) -> String? {
        var name = Substring(path)
        if name.hasPrefix("/") { name = name.dropFirst() }
        if name.hasPrefix("./") { name = name.dropFirst(2) }
        guard !name.isEmpty, !name.contains("/") else { return nil }
        return String(name)
    }
}
