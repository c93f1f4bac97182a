import NIOCore

/// One reply on the FTP control connection: a three-digit code and one or more lines of text
/// (RFC 959 §4.2).
///
/// It is also the error of ``FTPCommand/parse(_:)``: a line that cannot be understood is answered
/// with a reply, so the parser hands back the reply itself rather than a reason the session would
/// have to translate.
public struct FTPReply: Error, Sendable, Equatable {
    /// The reply code, `100...599`; its first digit tells the client whether the command worked.
    public let code: Int
    /// The text, one element per line, without line ends. Never empty.
    public let lines: [String]

    /// A reply of one or more lines.
    ///
    /// CR, LF and NUL inside a line become spaces: RFC 959 allows none of them in reply text, and a
    /// line end inside an echoed name would let a client forge a reply of its own.
    public init(_ code: Int, lines: [String]) {
        precondition((100...599).contains(code), "FTP reply codes have three digits, 1xx to 5xx")
        self.code = code
        self.lines = (lines.isEmpty ? [""] : lines).map(FTPReply.sanitized)
    }

    /// A single-line reply.
    public init(_ code: Int, _ text: String) {
        self.init(code, lines: [text])
    }

    /// The reply as the client reads it.
    ///
    /// One line is `"code text\r\n"`. Several are RFC 959's multi-line form: `"code-first\r\n"`,
    /// the inner lines, then `"code last\r\n"`. A client takes any line that starts with the code
    /// and a space as the end, so an inner line that starts with a digit is indented by one space.
    public var text: String {
        let prefix = String(code)
        guard lines.count > 1 else {
            return "\(prefix) \(lines[0])\r\n"
        }
        var result = "\(prefix)-\(lines[0])\r\n"
        for line in lines.dropFirst().dropLast() {
            if let first = line.utf8.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) {
                result += " "
            }
            result += line + "\r\n"
        }
        result += "\(prefix) \(lines[lines.count - 1])\r\n"
        return result
    }

    /// ``text`` as bytes for the channel.
    public var wire: ByteBuffer {
        ByteBuffer(string: text)
    }

    private static func sanitized(_ line: String) -> String {
        guard line.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else { return line }
        return String(line.unicodeScalars.map { scalar -> Character in
            scalar == "\r" || scalar == "\n" || scalar == "\0" ? " " : Character(scalar)
        })
    }
}

// MARK: - The replies the server sends

extension FTPReply {
    // 1xx: preliminary

    /// 150, before a transfer on a data connection that is still to be opened.
    public static let openingData = FTPReply(150, "Opening data connection.")
    /// 125, before a transfer on a data connection that is already open.
    public static let dataAlreadyOpen = FTPReply(125, "Data connection already open; transfer starting.")

    // 2xx: done

    public static let commandOK = FTPReply(200, "Command okay.")
    /// 200 with a message saying what was set (`TYPE`, `MODE`, `OPTS`, `PBSZ`, `PROT`…).
    public static func ok(_ text: String) -> FTPReply { FTPReply(200, text) }
    /// 202, for commands that are accepted but mean nothing here (`ALLO`).
    public static let superfluous = FTPReply(202, "Command not needed here.")
    /// 211, the `FEAT` list (RFC 2389): each feature on its own line, indented by one space.
    public static func features(_ features: [String]) -> FTPReply {
        FTPReply(211, lines: ["Features:"] + features.map { " " + $0 } + ["End"])
    }
    /// 211, `STAT` without an argument: the session's state, one fact a line.
    public static func systemStatus(_ lines: [String]) -> FTPReply {
        FTPReply(211, lines: ["chatd FTP server status:"] + lines + ["End of status"])
    }
    /// 213, `STAT path` (RFC 959 §4.1.3): the `LIST` lines over the control connection.
    public static func statusListing(path: String, lines: [String]) -> FTPReply {
        FTPReply(213, lines: ["Status of \(path):"] + lines + ["End of status"])
    }
    /// 213, the answer to `SIZE`.
    public static func fileSize(_ size: Int64) -> FTPReply { FTPReply(213, String(size)) }
    /// 213, the answer to `MDTM`: a time value from ``FTPListing/timeValue(millis:)``.
    public static func modificationTime(_ timeValue: String) -> FTPReply { FTPReply(213, timeValue) }
    /// 214, `HELP`: the commands understood, several to a line.
    public static func help(_ lines: [String]) -> FTPReply {
        FTPReply(214, lines: ["The following commands are recognized:"] + lines + ["Help OK."])
    }
    /// 215, `SYST`. Clients use it to choose a `LIST` parser; ours writes `ls -l` lines.
    public static let system = FTPReply(215, "UNIX Type: L8")
    /// 220, the greeting once the connection is accepted.
    public static let ready = FTPReply(220, "chatd FTP server ready.")
    /// 221, after `QUIT`; the server then closes the control connection.
    public static let goodbye = FTPReply(221, "Goodbye.")
    /// 225, `ABOR` with no transfer to abort.
    public static let noTransferToAbort = FTPReply(225, "No transfer to abort.")
    /// 226, a transfer finished and the data connection is closed.
    public static let transferComplete = FTPReply(226, "Transfer complete.")
    /// 226, the answer to `ABOR` after 426 closed the aborted transfer (RFC 959 §4.1.3).
    public static let abortSuccessful = FTPReply(226, "Abort successful.")
    /// 227, `PASV`: the address to connect to, as six decimal bytes.
    ///
    /// `nil` if `address` has no IPv4 form: `PASV` cannot express IPv6, such clients use `EPSV`.
    public static func enteringPassive(_ address: SocketAddress) -> FTPReply? {
        FTPAddress.hostPort(address).map { FTPReply(227, "Entering Passive Mode (\($0)).") }
    }
    /// 229, `EPSV` (RFC 2428): only the port; the client connects to the control connection's host.
    public static func enteringExtendedPassive(port: Int) -> FTPReply {
        FTPReply(229, "Entering Extended Passive Mode (|||\(port)|)")
    }
    /// 230, `PASS` accepted.
    public static let loggedIn = FTPReply(230, "User logged in, proceed.")
    /// 200, `PBSZ` (RFC 4217 §9): TLS has no protection buffer, so whatever size was asked for, it is 0.
    public static let protectionBufferSize = FTPReply(200, "PBSZ=0")
    /// 234, `AUTH TLS` accepted: the TLS handshake follows at once (RFC 4217).
    public static let authAccepted = FTPReply(234, "Proceed with the TLS handshake.")
    /// 250, a file action (`CWD`, `DELE`, `RNTO`) done.
    public static func fileActionOK(_ text: String) -> FTPReply { FTPReply(250, text) }
    /// 250, `MLST` (RFC 3659 §7.2): the facts line goes inside a multi-line reply, after one space.
    public static func machineListing(path: String, facts: String) -> FTPReply {
        FTPReply(250, lines: ["Listing \(path)", " " + facts, "End"])
    }
    /// 257, `PWD`: the directory in double quotes, any `"` inside doubled (RFC 959 Appendix II).
    public static func pathname(_ path: String) -> FTPReply {
        var quoted = ""
        for character in path {
            quoted.append(character)
            if character == "\"" { quoted.append("\"") }
        }
        return FTPReply(257, "\"\(quoted)\" is the current directory.")
    }

    // 3xx: more is needed

    /// 331, `USER` accepted; `PASS` must follow.
    public static let needPassword = FTPReply(331, "User name okay, need password.")
    /// 350, `REST` or `RNFR` accepted; the transfer or `RNTO` must follow.
    public static func pendingFurtherInformation(_ text: String) -> FTPReply { FTPReply(350, text) }

    // 4xx: failed, try again later

    /// 421, the server closes the control connection (idle timeout, shutdown, too many connections).
    public static func serviceNotAvailable(_ text: String) -> FTPReply { FTPReply(421, text) }
    /// 425, no data connection: no `PASV`/`PORT` before, or the connection failed.
    public static func cannotOpenData(_ text: String) -> FTPReply { FTPReply(425, text) }
    /// 426, the data connection broke or `ABOR` closed it; the transfer did not finish.
    public static let transferAborted = FTPReply(426, "Connection closed; transfer aborted.")
    /// 426, an upload under TLS that ended without close_notify: it may have been cut, so it was not stored.
    public static let uploadEndNotConfirmed = FTPReply(
        426, "The TLS data connection ended without close_notify; the upload may be incomplete and was not stored.")
    /// 451, the server failed (disk, database); the text is for the user, the details for the log.
    public static func localError(_ text: String) -> FTPReply { FTPReply(451, text) }

    /// The server's disk is full (RFC 959's 452); 552 is kept for the size limit and quota,
    /// which are the user's to fix.
    public static let insufficientStorage = FTPReply(452, "Insufficient storage space: the server's disk is full.")

    // 5xx: failed

    /// 500, a verb this server does not know.
    public static func unknownCommand(_ verb: String) -> FTPReply {
        FTPReply(500, "'\(verb)': command not understood.")
    }
    /// 500, a line longer than ``FTPCommand/maxLineBytes``.
    public static let lineTooLong = FTPReply(500, "Command line too long.")
    /// 500, a line that is not a command at all (empty, or the verb is not letters).
    public static let syntaxError = FTPReply(500, "Syntax error, command unrecognized.")
    /// 501, the verb is known but its argument is missing or malformed; the text says which.
    public static func syntaxErrorInArguments(_ text: String) -> FTPReply { FTPReply(501, text) }
    /// 502, a command the server understands but does not offer.
    public static let notImplemented = FTPReply(502, "Command not implemented.")
    /// 502, `AUTH`, `PBSZ` or `PROT` on a server started without `--tls-cert`/`--tls-key`.
    public static let tlsNotConfigured = FTPReply(502, "TLS is not available: the server has no certificate.")
    /// 503, a command out of order (`PASS` before `USER`, `RNTO` without `RNFR`).
    public static func badSequence(_ text: String) -> FTPReply { FTPReply(503, text) }
    /// 504, a known command with a parameter the server does not support (`TYPE E`, `MODE B`).
    public static func notImplementedForParameter(_ text: String) -> FTPReply { FTPReply(504, text) }
    /// 521, a transfer with `PROT C` on a server that requires TLS (`--ftp-require-tls`, RFC 4217 §9).
    public static let protectionRequired = FTPReply(521, "Data connections must be protected: send PBSZ 0 and PROT P.")
    /// 522, `EPRT`/`EPSV` with a network protocol other than 1 (IPv4) and 2 (IPv6) (RFC 2428 §2).
    public static let networkProtocolNotSupported = FTPReply(522, "Network protocol not supported, use (1,2)")
    /// 530, any command but `USER`, `PASS`, `QUIT` and the like before login.
    public static let notLoggedIn = FTPReply(530, "Please log in with USER and PASS.")
    /// 530, `PASS` refused. Does not say whether the name or the password was wrong.
    public static let loginIncorrect = FTPReply(530, "Login incorrect.")
    /// 530, `USER` in clear on a server that requires TLS (`--ftp-require-tls`): the password must
    /// never cross in clear, so the name is refused before it is asked for.
    public static let tlsRequired = FTPReply(530, "TLS required: send AUTH TLS first.")
    /// 534, `PROT`/`PBSZ` refused by policy.
    public static func securityPolicy(_ text: String) -> FTPReply { FTPReply(534, text) }
    /// 536, `PROT S` or `PROT E`: levels TLS does not offer (RFC 4217 §9).
    public static let protectionLevelNotSupported = FTPReply(536, "Requested PROT level not supported by mechanism.")
    /// 550, no such file, not the owner, or an action the flat file area does not allow.
    public static func fileUnavailable(_ text: String) -> FTPReply { FTPReply(550, text) }
    /// 552, over the size limit or the owner's quota (PROTOCOL.md §6: both are 552).
    public static func storageExceeded(_ text: String) -> FTPReply { FTPReply(552, text) }
    /// 554, `REST` past the end of the stored file (RFC 3659 §5.5).
    public static func invalidRestartOffset(_ text: String) -> FTPReply { FTPReply(554, text) }
    /// 553, a name the file area refuses (`FileName.validate`).
    public static func nameNotAllowed(_ text: String) -> FTPReply { FTPReply(553, text) }
}
