import Foundation
import Stores
import TestSupport
import Testing

/// Member sizes near `Int64.max`, which a base-256 size field or a PAX `size` record can claim: the reader must refuse
/// them as truncation, not overflow computing where the member ends.
@Suite struct TarHostileSizeTests {
    /// A ustar header for `name` with `field` in the size field and a correct checksum.
    static func header(_ name: String, size field: [UInt8], typeflag: UInt8 = UInt8(ascii: "0")) -> [UInt8] {
        var h = TarHeader(name: name, size: 0).encode()
        h.replaceSubrange(124..<136, with: field)
        h[156] = typeflag
        h.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = h.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        h.replaceSubrange(148..<154, with: [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits)
        h[154] = 0
        h[155] = 0x20
        return h
    }

    static func entries(_ bytes: [UInt8]) -> Result<[TarReader.Entry], StoreError> {
        Result { () throws(StoreError) in
            try TarReader.entries(size: Int64(bytes.count), path: "crafted.tar") { offset, count throws(StoreError) in
                guard offset >= 0, count >= 0, offset + Int64(count) <= Int64(bytes.count) else {
                    throw StoreError(.corrupt, "read past the end")
                }
                return Array(bytes[Int(offset)..<Int(offset) + count])
            }
        }
    }

    @Test("a base-256 size just under Int64.max is refused as a truncated member")
    func base256() throws {
        // 0x80 marks base-256; the 11 bytes after it hold 0x7ffffffffffffe00, the largest the field parser lets through.
        let field: [UInt8] = [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00]
        let bytes = Self.header("big", size: field) + [UInt8](repeating: 0, count: 2048)
        guard case .failure(let error) = Self.entries(bytes) else {
            Issue.record("a member of 2^63 bytes in a 2.5 KiB file was accepted")
            return
        }
        #expect(error.code == .corrupt)
        #expect(error.message.contains("truncated"), "\(error)")
    }

    @Test("a PAX size record of Int64.max is refused as a truncated member")
    func paxSize() throws {
        var record = Array("28 size=9223372036854775807\n".utf8)
        #expect(record.count == 28)
        record += [UInt8](repeating: 0, count: 512 - record.count)
        let pax = Self.header("PaxHeaders/big", size: Array("00000000034\0".utf8), typeflag: UInt8(ascii: "x"))
        let bytes = pax + record + Self.header("big", size: Array("00000000000\0".utf8)) + [UInt8](repeating: 0, count: 1024)
        guard case .failure(let error) = Self.entries(bytes) else {
            Issue.record("a member of Int64.max bytes was accepted")
            return
        }
        #expect(error.code == .corrupt)
        #expect(error.message.contains("truncated"), "\(error)")
    }
}
