import Foundation

/// A field that a JSON record always carries: its value, or null when there is none to give (an optional
/// property alone is left out when nil, so a schema could not require it). As an optional property it
/// still decodes files without the key, and null, to nil.
public struct JSONNullable<Wrapped: Codable & Sendable>: Codable, Sendable {
    public var value: Wrapped?

    public init(_ value: Wrapped?) { self.value = value }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        value = container.decodeNil() ? nil : try container.decode(Wrapped.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
