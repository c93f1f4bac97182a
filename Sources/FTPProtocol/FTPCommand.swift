import NIOCore

/// One command read from the FTP control connection, with its argument checked as far as the
/// command's grammar goes (RFC 959, 2228, 2389, 2428, 3659, 4217).
///
/// Paths stay the client's text: whether a name exists, is allowed or belongs to the user is the
/// file area's question, asked by the session. What the parser settles is everything that can be
/// answered from the line alone, so the session never sees a malformed `PORT` or an unknown `TYPE`.
public enum FTPCommand: Sendable, Equatable {
    case user(String)
    /// The password; empty if the client sent none (anonymous clients often do).
    case pass(String)
    case quit
    case syst
    case feat
    /// `OPTS UTF8 ON` (`true`) or `OPTS UTF8 OFF`. Names are always UTF-8 here; the option only
    /// tells old clients that this is so.
    case opts(utf8: Bool)
    /// `OPTS MLST fact;fact;…` (RFC 3659 §7.9): which facts to show. Every fact is always shown
    /// here, and the reply says so; the client's choice is accepted, not applied.
    case optsMachineListing
    /// `PWD` or its RFC 775 spelling `XPWD`.
    case pwd
    case cwd(String)
    case cdup
    case type(TransferType)
    /// `MODE S`; other modes are refused while parsing.
    case mode
    /// `STRU F`; other structures are refused while parsing.
    case stru
    case pasv
    case epsv(ExtendedPassive)
    /// `PORT`: where the client listens for an active-mode data connection (always IPv4).
    case port(SocketAddress)
    /// `EPRT`: like `PORT`, IPv4 or IPv6.
    case eprt(SocketAddress)
    /// `LIST`, with `ls`-style options such as `-la` removed; `nil` for the current directory.
    case list(String?)
    /// `NLST`, with `ls`-style options removed, as for `LIST`.
    case nlst(String?)
    case mlsd(String?)
    case mlst(String?)
    case size(String)
    case mdtm(String)
    /// `REST`: the byte offset where the next `RETR` or `STOR` starts.
    case rest(Int64)
    case retr(String)
    case stor(String)
    case appe(String)
    case dele(String)
    case rnfr(String)
    case rnto(String)
    case noop
    case abor
    /// `STAT`: without an argument the session's status, with one a listing over the control
    /// connection.
    case stat(String?)
    case help(String?)
    /// `ALLO n [R n]`: space to reserve. Nothing is reserved here; it is parsed only so that a
    /// malformed one is refused.
    case allo(size: Int64, recordSize: Int64?)
    case mkd(String)
    case rmd(String)
    /// `AUTH`: the mechanism, upper-cased (RFC 2228 names are case-insensitive): `TLS`, `TLS-C`, `SSL`…
    case auth(String)
    /// `PBSZ`: the protection buffer size; TLS clients send 0 (RFC 4217 §9).
    case pbsz(UInt32)
    case prot(ProtectionLevel)

    /// `TYPE`'s argument: what happens to line ends during a transfer.
    public enum TransferType: Sendable, Equatable {
        /// `A` or `A N`: text with CRLF line ends on the wire.
        case ascii
        /// `I` or `L 8`: bytes as they are.
        case image
    }

    /// The network protocol numbers of RFC 2428 (the IANA address family numbers).
    public enum NetworkProtocol: Int, Sendable, Equatable {
        case ipv4 = 1
        case ipv6 = 2
    }

    /// `EPSV`'s optional argument (RFC 2428 §3).
    public enum ExtendedPassive: Sendable, Equatable {
        /// No argument: passive mode on the control connection's protocol.
        case unspecified
        /// `EPSV 1` or `EPSV 2`.
        case networkProtocol(NetworkProtocol)
        /// `EPSV ALL`: from now on the client uses only `EPSV`; `PORT`, `PASV` and `EPRT` are refused.
        case all
    }

    /// `PROT`'s argument (RFC 2228 §3): whether the data connection is protected.
    public enum ProtectionLevel: Sendable, Equatable {
        /// `C`: plain.
        case clear
        /// `S`: integrity only; TLS has no such level, the session answers 536.
        case safe
        /// `E`: confidentiality only; TLS has no such level, the session answers 536.
        case confidential
        /// `P`: TLS on the data connection.
        case `private`
    }

    /// The longest line accepted, without its line end. Long enough for any path of 255-byte
    /// names; the connection's line decoder uses the same bound so that a client cannot make it
    /// buffer without end.
    public static let maxLineBytes = 4096

    /// The command's verb as the server spells it in replies and logs (`XPWD` is `PWD`).
    public var verb: String {
        switch self {
        case .user: "USER"
        case .pass: "PASS"
        case .quit: "QUIT"
        case .syst: "SYST"
        case .feat: "FEAT"
        case .opts, .optsMachineListing: "OPTS"
        case .pwd: "PWD"
        case .cwd: "CWD"
        case .cdup: "CDUP"
        case .type: "TYPE"
        case .mode: "MODE"
        case .stru: "STRU"
        case .pasv: "PASV"
        case .epsv: "EPSV"
        case .port: "PORT"
        case .eprt: "EPRT"
        case .list: "LIST"
        case .nlst: "NLST"
        case .mlsd: "MLSD"
        case .mlst: "MLST"
        case .size: "SIZE"
        case .mdtm: "MDTM"
        case .rest: "REST"
        case .retr: "RETR"
        case .stor: "STOR"
        case .appe: "APPE"
        case .dele: "DELE"
        case .rnfr: "RNFR"
        case .rnto: "RNTO"
        case .noop: "NOOP"
        case .abor: "ABOR"
        case .stat: "STAT"
        case .help: "HELP"
        case .allo: "ALLO"
        case .mkd: "MKD"
        case .rmd: "RMD"
        case .auth: "AUTH"
        case .pbsz: "PBSZ"
        case .prot: "PROT"
        }
    }

    /// Every verb the parser knows, for `HELP`.
    public static let verbs = [
        "USER", "PASS", "QUIT", "SYST", "FEAT", "OPTS", "PWD", "XPWD", "CWD", "CDUP", "TYPE", "MODE", "STRU",
        "PASV", "EPSV", "PORT", "EPRT", "LIST", "NLST", "MLSD", "MLST", "SIZE", "MDTM", "REST", "RETR", "STOR",
        "APPE", "DELE", "RNFR", "RNTO", "NOOP", "ABOR", "STAT", "HELP", "ALLO", "MKD", "RMD", "AUTH", "PBSZ", "PROT",
    ]
}

// MARK: - Parsing

extension FTPCommand {
    /// Parses one control-connection line.
    ///
    /// `line` may still end in CRLF or a bare LF (some clients send that); both are removed. The
    /// verb is case-insensitive. The argument is everything after the first space, exactly: FTP
    /// names may begin or end with spaces, so path arguments are not trimmed. Fixed grammars
    /// (`TYPE`, `PORT`, `REST`…) are parsed here and tolerate extra spaces.
    ///
    /// Telnet commands before the verb are skipped: clients send `ABOR` after Telnet's IAC IP
    /// and IAC DM (RFC 959 §4.1.3), and no verb starts with a byte from 0xF0 up.
    ///
    /// A refused line comes back as the reply to send: 500 for a line over ``maxLineBytes`` or an
    /// unknown verb, 501 for a missing or malformed argument or one that is not UTF-8, 504 for a
    /// parameter this server does not support, 522 for an unknown network protocol.
    public static func parse(_ line: some Collection<UInt8>) -> Result<FTPCommand, FTPReply> {
        var bytes = ArraySlice(line)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count <= maxLineBytes else { return .failure(.lineTooLong) }
        while let first = bytes.first, first >= 0xF0 { bytes.removeFirst() }

        let verbEnd = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.endIndex
        let verbBytes = bytes[..<verbEnd]
        guard !verbBytes.isEmpty else { return .failure(.syntaxError) }
        guard verbBytes.count <= 4, verbBytes.allSatisfy(isASCIILetter) else {
            return .failure(.unknownCommand(printable(verbBytes)))
        }
        let verb = String(decoding: verbBytes, as: UTF8.self).uppercased()

        let argument: String?
        if verbEnd == bytes.endIndex {
            argument = nil
        } else {
            guard let text = String(validating: bytes[(verbEnd + 1)...], as: UTF8.self) else {
                return .failure(.syntaxErrorInArguments("The argument of \(verb) is not valid UTF-8."))
            }
            argument = text.isEmpty ? nil : text
        }
        return parse(verb: verb, argument: argument)
    }

    private static func parse(verb: String, argument: String?) -> Result<FTPCommand, FTPReply> {
        /// The argument, or 501 naming what the verb needs.
        func required(_ what: String) -> Result<String, FTPReply> {
            guard let argument else {
                return .failure(.syntaxErrorInArguments("\(verb) needs \(what)."))
            }
            return .success(argument)
        }
        /// The argument's words, for the fixed grammars.
        func words(_ what: String) -> Result<[Substring], FTPReply> {
            required(what).map { $0.split(separator: " ") }.flatMap { words in
                words.isEmpty ? .failure(.syntaxErrorInArguments("\(verb) needs \(what).")) : .success(words)
            }
        }

        switch verb {
        case "USER": return required("a user name").map(FTPCommand.user)
        case "PASS": return .success(.pass(argument ?? ""))
        case "QUIT": return .success(.quit)
        case "SYST": return .success(.syst)
        case "FEAT": return .success(.feat)
        case "OPTS": return words("an option, e.g. UTF8 ON").flatMap(parseOptions)
        case "PWD", "XPWD": return .success(.pwd)
        case "CWD": return required("a directory").map(FTPCommand.cwd)
        case "CDUP": return .success(.cdup)
        case "TYPE": return words("a type: A or I").flatMap(parseType)
        case "MODE":
            return words("a mode: S").flatMap { words in
                words.count == 1 && words[0].uppercased() == "S"
                    ? .success(.mode) : .failure(.notImplementedForParameter("Only MODE S (stream) is supported."))
            }
        case "STRU":
            return words("a structure: F").flatMap { words in
                words.count == 1 && words[0].uppercased() == "F"
                    ? .success(.stru) : .failure(.notImplementedForParameter("Only STRU F (file) is supported."))
            }
        case "PASV": return .success(.pasv)
        case "EPSV": return parseExtendedPassive(argument)
        case "PORT": return required("h1,h2,h3,h4,p1,p2").flatMap { FTPAddress.parseHostPort($0[...]) }.map(FTPCommand.port)
        case "EPRT":
            return required("|protocol|address|port|").flatMap { FTPAddress.parseExtendedHostPort($0[...]) }.map(FTPCommand.eprt)
        case "LIST": return .success(.list(argument.flatMap(withoutListOptions)))
        case "NLST": return .success(.nlst(argument.flatMap(withoutListOptions)))
        case "MLSD": return .success(.mlsd(argument))
        case "MLST": return .success(.mlst(argument))
        case "SIZE": return required("a file name").map(FTPCommand.size)
        case "MDTM": return required("a file name").map(FTPCommand.mdtm)
        case "REST":
            return words("a byte offset").flatMap { words in
                guard words.count == 1, let offset = nonNegativeInteger(words[0]) else {
                    return .failure(.syntaxErrorInArguments("REST needs a byte offset from 0 to \(Int64.max)."))
                }
                return .success(.rest(offset))
            }
        case "RETR": return required("a file name").map(FTPCommand.retr)
        case "STOR": return required("a file name").map(FTPCommand.stor)
        case "APPE": return required("a file name").map(FTPCommand.appe)
        case "DELE": return required("a file name").map(FTPCommand.dele)
        case "RNFR": return required("the file name to rename").map(FTPCommand.rnfr)
        case "RNTO": return required("the new file name").map(FTPCommand.rnto)
        case "NOOP": return .success(.noop)
        case "ABOR": return .success(.abor)
        case "STAT": return .success(.stat(argument))
        case "HELP": return .success(.help(argument))
        case "ALLO": return words("a size in bytes").flatMap(parseAllocate)
        case "MKD": return required("a directory name").map(FTPCommand.mkd)
        case "RMD": return required("a directory name").map(FTPCommand.rmd)
        case "AUTH":
            return words("a mechanism, e.g. TLS").flatMap { words in
                words.count == 1
                    ? .success(.auth(words[0].uppercased())) : .failure(.syntaxErrorInArguments("AUTH needs one mechanism, e.g. TLS."))
            }
        case "PBSZ":
            return words("a buffer size, 0 for TLS").flatMap { words in
                guard words.count == 1, let size = nonNegativeInteger(words[0]), let size32 = UInt32(exactly: size) else {
                    return .failure(.syntaxErrorInArguments("PBSZ needs a buffer size from 0 to \(UInt32.max)."))
                }
                return .success(.pbsz(size32))
            }
        case "PROT": return words("a protection level: C or P").flatMap(parseProtection)
        default: return .failure(.unknownCommand(verb))
        }
    }

    private static func parseOptions(_ words: [Substring]) -> Result<FTPCommand, FTPReply> {
        if words.count <= 2, words[0].uppercased() == "MLST" {
            return .success(.optsMachineListing)
        }
        if words.count == 2, words[0].uppercased() == "UTF8" {
            switch words[1].uppercased() {
            case "ON": return .success(.opts(utf8: true))
            case "OFF": return .success(.opts(utf8: false))
            default: break
            }
        }
        return .failure(.syntaxErrorInArguments("The options are UTF8 ON, UTF8 OFF and MLST."))
    }

    private static func parseType(_ words: [Substring]) -> Result<FTPCommand, FTPReply> {
        switch words.map({ $0.uppercased() }) {
        case ["A"], ["A", "N"]: .success(.type(.ascii))
        case ["I"], ["L", "8"]: .success(.type(.image))
        default: .failure(.notImplementedForParameter("Only TYPE A, A N, I and L 8 are supported."))
        }
    }

    private static func parseExtendedPassive(_ argument: String?) -> Result<FTPCommand, FTPReply> {
        let words = argument?.split(separator: " ") ?? []
        switch words.map({ $0.uppercased() }) {
        case []: return .success(.epsv(.unspecified))
        case ["1"]: return .success(.epsv(.networkProtocol(.ipv4)))
        case ["2"]: return .success(.epsv(.networkProtocol(.ipv6)))
        case ["ALL"]: return .success(.epsv(.all))
        default:
            if words.count == 1, nonNegativeInteger(words[0]) != nil {
                return .failure(.networkProtocolNotSupported)
            }
            return .failure(.syntaxErrorInArguments("EPSV takes no argument, 1, 2 or ALL."))
        }
    }

    private static func parseAllocate(_ words: [Substring]) -> Result<FTPCommand, FTPReply> {
        let malformed = FTPReply.syntaxErrorInArguments("ALLO needs a size in bytes, optionally followed by R and a record size.")
        guard let size = nonNegativeInteger(words[0]) else { return .failure(malformed) }
        switch words.count {
        case 1:
            return .success(.allo(size: size, recordSize: nil))
        case 3 where words[1].uppercased() == "R":
            guard let record = nonNegativeInteger(words[2]) else { return .failure(malformed) }
            return .success(.allo(size: size, recordSize: record))
        default:
            return .failure(malformed)
        }
    }

    private static func parseProtection(_ words: [Substring]) -> Result<FTPCommand, FTPReply> {
        switch words.map({ $0.uppercased() }) {
        case ["C"]: .success(.prot(.clear))
        case ["S"]: .success(.prot(.safe))
        case ["E"]: .success(.prot(.confidential))
        case ["P"]: .success(.prot(.private))
        default: .failure(.syntaxErrorInArguments("PROT needs a level: C, S, E or P."))
        }
    }

    /// `LIST`/`NLST` argument without leading `ls` options (`-l`, `-la`, `-a`), which clients
    /// send out of habit from Unix servers. A word counts as options only if it is `-` and
    /// letters; `nil` if nothing is left.
    ///
    /// The price: a file literally named `-la` can only be listed through `MLST`, or by
    /// `LIST ./-la` once paths are resolved.
    private static func withoutListOptions(_ argument: String) -> String? {
        var rest = argument[...]
        while rest.first == "-" {
            let word = rest.prefix(while: { $0 != " " })
            guard word.count > 1, word.dropFirst().allSatisfy({ $0.isASCII && $0.isLetter }) else { break }
            rest = rest.dropFirst(word.count).drop(while: { $0 == " " })
        }
        return rest.isEmpty ? nil : String(rest)
    }

    /// A decimal number `0...Int64.max`, digits only: no sign, no spaces.
    private static func nonNegativeInteger(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int64(text)
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    /// A verb the parser does not know, shortened and made printable so the 500 reply can echo it.
    private static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        String(bytes.prefix(16).map { (0x21...0x7E).contains($0) ? Character(Unicode.Scalar($0)) : "?" })
    }
}

extension FTPCommand: CustomStringConvertible {
    /// The command for logs, with the password hidden.
    public var description: String {
        switch self {
        case .pass: "PASS ****"
        default: verb
        }
    }
}
