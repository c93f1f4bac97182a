import Foundation
import FuzzSupport
import Shared

/// Fuzzes ``ClientFrame/parse(_:maxMessageChars:)``, which reads every text frame a chat client
/// sends. The first input byte chooses `--message-chars` (a small one reaches the limit sooner);
/// the rest is the frame.
///
/// Properties, beyond not crashing:
/// - the same bytes always give the same answer;
/// - an accepted frame satisfies the protocol's rules: a message as ``MessageText`` would store it
///   (trimmed, within the limit, no refused control characters), a `client_id` of at most 64
///   characters, a `history` limit of 1–200 and a positive `before`, a non-negative `up_to`;
/// - an accepted frame, written by the clients' encoder (`ClientFrameEncoding`), parses back to
///   the same frame;
/// - a refusal echoes a `client_id` only if the frame had a valid one, and never a longer one.
@main enum FuzzClientFrame {
    static func main() { runLibFuzzer(fuzz) }
}

let limits = [ProtocolLimits.defaultMessageChars, 1, 2, 5, 16]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = inputBytes(start, count)
    guard let first = input.first else { return 0 }
    let maxChars = limits[Int(first) % limits.count]
    let frame = input.dropFirst()
    let result = ClientFrame.parse(frame, maxMessageChars: maxChars)
    check(ClientFrame.parse(frame, maxMessageChars: maxChars) == result, "a second parse differs", input: input)

    switch result {
    case .success(let parsed):
        switch parsed {
        case .broadcast(let message, let clientID):
            checkMessage(message, maxChars: maxChars, input: input)
            checkClientID(clientID, input: input)
        case .direct(_, let message, let clientID):
            checkMessage(message, maxChars: maxChars, input: input)
            checkClientID(clientID, input: input)
        case .history(_, let before, let limit):
            check(ProtocolLimits.historyLimitRange.contains(limit), "history limit \(limit)", input: input)
            check(before.map { $0 >= 1 } ?? true, "history before \(String(describing: before))", input: input)
        case .read(_, let upTo):
            check(upTo >= 0, "read up_to \(upTo)", input: input)
        case .users, .typing:
            break
        }
        let encoded = try! JSONEncoder().encode(parsed)
        let reparsed = ClientFrame.parse(Array(encoded), maxMessageChars: maxChars)
        check(reparsed == .success(parsed), "\(parsed) encoded as \(String(decoding: encoded, as: UTF8.self)) parses to \(reparsed)", input: input)
    case .failure(let rejection):
        checkClientID(rejection.clientID, input: input)
        if let echoed = rejection.clientID {
            guard case .object(let object)? = try? JSONParser.parse(frame), case .string(let sent)? = object["client_id"] else {
                check(false, "echoed client_id \(echoed.debugDescription) that the frame does not carry", input: input)
                return 0
            }
            check(sent == echoed, "echoed client_id \(echoed.debugDescription), the frame carries \(sent.debugDescription)", input: input)
        }
    }
    return 0
}

func checkMessage(_ message: String, maxChars: Int, input: [UInt8]) {
    check((try? MessageText.validate(message, maxScalars: maxChars).get()) == message,
          "message \(message.debugDescription) is not as MessageText stores it", input: input)
}

func checkClientID(_ clientID: String?, input: [UInt8]) {
    guard let clientID else { return }
    check(clientID.count <= ProtocolLimits.maxClientIDLength, "client_id of \(clientID.count) characters", input: input)
}
