import Foundation
import OCI
import Testing

@Suite("Digest")
struct DigestTests {
    @Test func parsesSHA256() throws {
        let digest = try Digest("sha256:\(Fixtures.hexA)")
        #expect(digest.algorithm == "sha256")
        #expect(digest.hex == Fixtures.hexA)
        #expect(digest.description == "sha256:\(Fixtures.hexA)")
        #expect(digest.short == "b60e2d3ac892")
    }

    @Test func parsesSHA512() throws {
        let hex = Fixtures.hexA + Fixtures.hexB
        let digest = try Digest("sha512:\(hex)")
        #expect(digest.algorithm == "sha512")
        #expect(digest.hex == hex)
    }

    @Test func sha256HexInitialiser() throws {
        #expect(try Digest(sha256Hex: Fixtures.hexC) == Digest("sha256:\(Fixtures.hexC)"))
        #expect(throws: OCIError.self) { try Digest(sha256Hex: "abc") }
    }

    @Test(
        "refuses malformed digests",
        arguments: [
            ("", "expected ALGORITHM:HEX"),
            ("sha256", "expected ALGORITHM:HEX"),
            (Fixtures.hexA, "expected ALGORITHM:HEX"),
            ("sha256:", "hex part is missing"),
            (":\(Fixtures.hexA)", "algorithm is missing"),
            ("sha256:\(Fixtures.hexA.dropLast())", "sha256 needs 64 hex digits, found 63"),
            ("sha256:\(Fixtures.hexA)0", "sha256 needs 64 hex digits, found 65"),
            ("sha512:\(Fixtures.hexA)", "sha512 needs 128 hex digits, found 64"),
            ("sha256:\(Fixtures.hexA.uppercased())", "hex digits must be lowercase"),
            ("sha256:\(String(repeating: "g", count: 64))", "hex digits (0-9, a-f) only"),
            ("sha256:\(Fixtures.hexA.dropLast()):", "hex digits (0-9, a-f) only"),
            ("SHA256:\(Fixtures.hexA)", "algorithm is malformed"),
            ("sha256+:\(Fixtures.hexA)", "algorithm is malformed"),
            ("+sha256:\(Fixtures.hexA)", "algorithm is malformed"),
            ("md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm \"md5\""),
            ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", "unsupported algorithm"),
        ]
    )
    func refuses(input: String, because: String) {
        do {
            let digest = try Digest(input)
            Issue.record("accepted \(digest)")
        } catch {
            #expect(error.code == .invalidDigest)
            #expect(error.message.hasPrefix("invalid digest \""))
            #expect(error.message.contains(because), "message: \(error.message)")
        }
    }

    @Test func comparableAndHashable() throws {
        let a = try Digest(sha256Hex: Fixtures.hexA)
        let b = try Digest(sha256Hex: Fixtures.hexB)
        let c = try Digest(sha256Hex: Fixtures.hexC)
        #expect([a, b, c].sorted() == [b, c, a])
        #expect(Set([a, b, a, try Digest(sha256Hex: Fixtures.hexA)]).count == 2)
    }

    @Test func codableAsAString() throws {
        let digest = try Digest(sha256Hex: Fixtures.hexD)
        let data = try JSONEncoder().encode(["d": digest])
        #expect(String(decoding: data, as: UTF8.self) == "{\"d\":\"sha256:\(Fixtures.hexD)\"}")
        #expect(try JSONDecoder().decode([String: Digest].self, from: data)["d"] == digest)
    }

    @Test func decodingValidates() {
        let json = Data("[\"sha256:\(Fixtures.hexA.dropLast())\"]".utf8)
        do {
            _ = try JSONDecoder().decode([Digest].self, from: json)
            Issue.record("decoded a 63-digit digest")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.contains("needs 64 hex digits"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
