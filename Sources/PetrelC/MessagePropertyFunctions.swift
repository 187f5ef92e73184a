import CPetrel
import Foundation

// Enumeration of a message's properties (petrel.h's "message properties: enumeration" section).

/// `petrel_message_property_count`: how many properties the message has, in `*out_count`.
@_cdecl("petrel_message_property_count")
public func petrel_message_property_count(_ message: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let out = try Arguments.required(outCount, "out_count")
        out.pointee = 0
        let box = try Handle.require(message, as: MessageBox.self, argument: "message")
        out.pointee = box.propertyCount
    }
}

/// `petrel_message_property_at`: the name and value of the property at `index` (name order).
@_cdecl("petrel_message_property_at")
public func petrel_message_property_at(
    _ message: OpaquePointer?, _ index: Int, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
    _ outValue: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> petrel_status {
    CallBoundary.run { () throws(CallFailure) in
        let name = try Arguments.required(outName, "out_name")
        let value = try Arguments.required(outValue, "out_value")
        name.pointee = nil
        value.pointee = nil
        let box = try Handle.require(message, as: MessageBox.self, argument: "message")
        guard let entry = box.propertyEntry(at: index) else {
            throw .invalidArgument("property index \(index) is out of range (the message has \(box.propertyCount))")
        }
        name.pointee = entry.name
        value.pointee = entry.value
    }
}
