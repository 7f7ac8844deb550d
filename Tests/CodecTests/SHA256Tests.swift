import Codec
import Testing

@Suite("SHA-256 over libcrypto")
struct SHA256Tests {
    @Test("known vectors (FIPS 180-2)")
    func vectors() {
        #expect(SHA256.hexDigest([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("streaming in pieces equals one shot; copies are independent")
    func streamingAndCopies() {
        let data = TestData.random(300_000)
        var hasher = SHA256()
        hasher.update(data[0..<1000])
        let snapshot = hasher
        hasher.update(data[1000...])
        #expect(hasher.hexDigest() == SHA256.hexDigest(data))
        #expect(snapshot.hexDigest() == SHA256.hexDigest(data[0..<1000]))
    }

    @Test("agrees with openssl dgst")
    func matchesOpenSSL() throws {
        let data = TestData.logText(1 << 20)
        let out = String(decoding: try Tool.output("openssl", ["dgst", "-sha256", "-r"], input: data), as: UTF8.self)
        #expect(out.hasPrefix(SHA256.hexDigest(data)))
    }
}
