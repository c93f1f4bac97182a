import Foundation

/// A request from a client on the chat WebSocket (PROTOCOL.md §2, "Client → server"), validated:
/// every value here already satisfies the protocol's rules.
public enum ClientFrame: Equatable, Sendable {
    case broadcast(message: String, clientID: String?)
    case direct(to: String, message: String, clientID: String?)
    case users
    case history(chat: ChatRef, before: Int64?, limit: Int)
    case read(chat: ChatRef, upTo: Int64)
    case typing(to: String)
}

/// A client frame that was refused, with the `client_id` to echo when the frame carried one.
public struct FrameRejection: Error, Equatable, Sendable {
    public var error: ProtocolError
    public var clientID: String?

    public init(_ error: ProtocolError, clientID: String? = nil) {
        self.error = error
        self.clientID = clientID
    }
}

extension ClientFrame {
    /// Parses one text frame. Pure: the same bytes and limit always give the same answer.
    /// - Parameters:
    ///   - text: the frame's payload, already checked to be UTF-8 by the WebSocket layer.
    ///   - maxMessageChars: the server's `--message-chars`.
    public static func parse(_ text: some Collection<UInt8>, maxMessageChars: Int) -> Result<ClientFrame, FrameRejection> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            return .failure(FrameRejection(ProtocolError(.badRequest, "frame is not valid JSON")))
        }
        guard case .object(let object) = value else {
            return .failure(FrameRejection(ProtocolError(.badRequest, "frame must be a JSON object, not \(value.typeName)")))
        }
        var fields = FieldReader(object: object)
        do {
            let clientID = try fields.clientID()
            fields.echoClientID = clientID
            return .success(try parse(fields: &fields, clientID: clientID, maxMessageChars: maxMessageChars))
        } catch let rejection as FrameRejection {
            return .failure(rejection)
        } catch {
            return .failure(FrameRejection(ProtocolError(.badRequest, "\(error)"), clientID: fields.echoClientID))
        }
    }

    private static func parse(fields: inout FieldReader, clientID: String?, maxMessageChars: Int) throws -> ClientFrame {
        let type: String
        if fields.object["type"] == nil {
            // The oldest clients send no `type`: `to` makes it direct, anything else is broadcast.
            type = fields.object["to"] == nil ? "broadcast" : "direct"
        } else {
            type = try fields.string("type")
        }
        switch type {
        case "broadcast":
            return .broadcast(message: try fields.message(maxChars: maxMessageChars), clientID: clientID)
        case "direct":
            let to = try fields.string("to")
            return .direct(to: to, message: try fields.message(maxChars: maxMessageChars), clientID: clientID)
        case "users":
            return .users
        case "history":
            let chat = ChatRef(wire: try fields.string("chat"))
            let before = try fields.checked(ProtocolLimits.historyBefore(try fields.optionalInteger("before")))
            let limit = try fields.checked(ProtocolLimits.historyLimit(try fields.optionalInteger("limit")))
            return .history(chat: chat, before: before, limit: limit)
        case "read":
            let chat = ChatRef(wire: try fields.string("chat"))
            guard let upTo = try fields.optionalInteger("up_to") else {
                throw fields.reject(.badRequest, "missing field 'up_to'")
            }
            if upTo < 0 {
                throw fields.reject(.badRequest, "'up_to' must not be negative")
            }
            return .read(chat: chat, upTo: upTo)
        case "typing":
            return .typing(to: try fields.string("to"))
        default:
            throw fields.reject(.unknownType, "unknown frame type '\(type)'")
        }
    }
}

/// Reads typed fields out of a decoded frame, turning each problem into a refusal that names the field.
private struct FieldReader {
    let object: [String: JSONValue]
    var echoClientID: String?

    func reject(_ code: ErrorCode, _ message: String) -> FrameRejection {
        FrameRejection(ProtocolError(code, message), clientID: echoClientID)
    }

    /// The value of a shared rule's check, or its refusal as this frame's.
    func checked<Value>(_ result: Result<Value, ProtocolError>) throws -> Value {
        switch result {
        case .success(let value): return value
        case .failure(let error): throw FrameRejection(error, clientID: echoClientID)
        }
    }

    func string(_ name: String) throws -> String {
        switch object[name] {
        case .string(let value): return value
        case nil, .null?: throw reject(.badRequest, "missing field '\(name)'")
        case let other?: throw reject(.badRequest, "field '\(name)' must be a string, not \(other.typeName)")
        }
    }

    /// An integer field, which JSON carries as a number; fractions and values beyond 2^53 are refused.
    func optionalInteger(_ name: String) throws -> Int64? {
        switch object[name] {
        case nil, .null?: return nil
        case .number(let value)?:
            guard value.rounded() == value, abs(value) <= 9_007_199_254_740_992 else {
                throw reject(.badRequest, "field '\(name)' must be an integer")
            }
            return Int64(value)
        case let other?: throw reject(.badRequest, "field '\(name)' must be an integer, not \(other.typeName)")
        }
    }

    func clientID() throws -> String? {
        switch object["client_id"] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard value.count <= ProtocolLimits.maxClientIDLength else {
                throw reject(.badRequest, "'client_id' is longer than \(ProtocolLimits.maxClientIDLength) characters")
            }
            return value
        case let other?: throw reject(.badRequest, "field 'client_id' must be a string, not \(other.typeName)")
        }
    }

    func message(maxChars: Int) throws -> String {
        switch MessageText.validate(try string("message"), maxScalars: maxChars) {
        case .success(let text): return text
        case .failure(let error): throw FrameRejection(error, clientID: echoClientID)
        }
    }
}
