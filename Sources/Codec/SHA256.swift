internal import CCrypto

/// Streaming SHA-256 over OpenSSL's libcrypto (which uses SHA-NI where the CPU has it).
///
/// A value type: copies are independent (copy-on-write over the C context), so a hasher can be
/// snapshotted, e.g. to checkpoint the digest of a prefix.
public struct SHA256: Sendable {
    private var context: Context

    public init() {
        self.context = Context()
    }

    /// Feeds bytes into the hash. The corresponding C function is `EVP_DigestUpdate`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if !isKnownUniquelyReferenced(&self.context) {
            self.context = Context(copying: self.context)
        }
        self.context.update(bytes)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { self.update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { self.update($0) }
        }
    }

    /// The digest of everything fed so far; the hasher itself is left untouched.
    public func finalize() -> [UInt8] {
        Context(copying: self.context).finish()
    }

    /// Lowercase hex of `finalize()`, as used in `sha256:<hex>` digests.
    public func hexDigest() -> String {
        Self.hex(self.finalize())
    }

    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    public static func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
        hex(hash(bytes))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SHA256 {
    /// Owns one `EVP_MD_CTX`; freed in `deinit`. Only reached through `SHA256`, which copies before mutating a shared one.
    fileprivate final class Context: @unchecked Sendable {
        private let ctx: OpaquePointer

        init() {
            guard let ctx = EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
                preconditionFailure("libcrypto could not initialise SHA-256")
            }
            self.ctx = ctx
        }

        init(copying other: Context) {
            guard let ctx = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(ctx, other.ctx) == 1 else {
                preconditionFailure("libcrypto could not copy a SHA-256 context")
            }
            self.ctx = ctx
        }

        func update(_ bytes: UnsafeRawBufferPointer) {
            guard EVP_DigestUpdate(self.ctx, bytes.baseAddress, bytes.count) == 1 else {
                preconditionFailure("libcrypto failed to update SHA-256")
            }
        }

        func finish() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(self.ctx, &out, &length) == 1, length == 32 else {
                preconditionFailure("libcrypto failed to finish SHA-256")
            }
            return out
        }

        deinit { EVP_MD_CTX_free(self.ctx) }
    }
}
