import Testing
@testable import Registry
@testable import Transfer

@Suite struct UploadSessionTests {
    @Test("Range headers: Distribution's 0-0 means nothing held, 0-N means N+1 bytes")
    func rangeOffsets() {
        #expect(UploadSession.offset(range: "0-0") == 0)
        #expect(UploadSession.offset(range: "0-999999") == 1_000_000)
        #expect(UploadSession.offset(range: " 0-9 ") == 10)
        #expect(UploadSession.offset(range: "bytes=0-9") == 10)
        #expect(UploadSession.offset(range: "0--1") == 0)
        #expect(UploadSession.offset(range: "5-9") == nil)
        #expect(UploadSession.offset(range: "garbage") == nil)
    }

    @Test("a session comes from Location and Range; a relative Location is resolved against the URL that answered")
    func sessionFromResponse() throws {
        var headers = HTTPHeaders()
        headers.add("Location", "/v2/a/b/blobs/uploads/u1?_state=xyz")
        headers.add("Range", "0-1048575")
        let session = try UploadSession.from(Response(status: 202, headers: headers, url: "https://reg.example:5000/v2/a/b/blobs/uploads/"), fallbackOffset: 0)
        #expect(session.location == "https://reg.example:5000/v2/a/b/blobs/uploads/u1?_state=xyz")
        #expect(session.offset == 1 << 20)

        var noRange = HTTPHeaders()
        noRange.add("Location", "http://127.0.0.1:1/v2/x/blobs/uploads/u2")
        #expect(try UploadSession.from(Response(status: 202, headers: noRange, url: "http://127.0.0.1:1/"), fallbackOffset: 7).offset == 7)
        #expect(throws: RegistryError.self) { try UploadSession.from(Response(status: 202, headers: HTTPHeaders(), url: "http://h/"), fallbackOffset: 0) }
    }

    @Test("the digest is added to the query whether or not the upload URL has one")
    func digestQuery() {
        let signed = UploadSession(location: "http://h/v2/a/blobs/uploads/u?_state=s%3D", offset: 0)
        #expect(signed.url(adding: "digest", "sha256:ab") == "http://h/v2/a/blobs/uploads/u?_state=s%3D&digest=sha256:ab")
        let plain = UploadSession(location: "http://h/v2/a/blobs/uploads/u", offset: 0)
        #expect(plain.url(adding: "digest", "sha256:ab") == "http://h/v2/a/blobs/uploads/u?digest=sha256:ab")
    }

    @Test("a 413 halves the chunk size for the whole job, down to 1 MiB and no further")
    func chunkSizeAfter413() {
        let sizer = ChunkSizer(64 << 20)
        #expect(sizer.lower(after: 42_000_000) == 21_000_000)
        #expect(sizer.current == 21_000_000)
        #expect(sizer.lower(after: 64 << 20) == 21_000_000, "a late 413 for a bigger body does not raise it again")
        let small = ChunkSizer(1 << 20)
        #expect(small.lower(after: 1 << 20) == nil)
    }
}
