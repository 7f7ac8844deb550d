extension DecodingError {
    /// A one-line account of what is wrong and where (`layers[0].digest`), for user-facing messages.
    ///
    /// Foundation's own descriptions carry Swift type names and internal context; users need the JSON path.
    public var summary: String {
        switch self {
        case .keyNotFound(let key, let context):
            return "missing field \(quotedPath(context.codingPath + [key]))"
        case .valueNotFound(_, let context):
            return "field \(quotedPath(context.codingPath)) is null"
        case .typeMismatch(let type, let context):
            return "field \(quotedPath(context.codingPath)) is not \(jsonName(of: type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "not valid JSON"
            }
            return "field \(quotedPath(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}

private func quotedPath(_ path: [any CodingKey]) -> String {
    guard !path.isEmpty else { return "(top level)" }
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return "\"\(text)\""
}

private func jsonName(of type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is Int64.Type: "an integer"
    case is Bool.Type: "a boolean"
    case is [Any].Type: "an array"
    default: "an object"
    }
}
