import Testing
@testable import Mirror

/// Archive transports split as skopeo splits them: the file ends at the first colon, so what follows may be a
/// full reference (the name a Ferry bundle lists an image under) or, for docker-archive, `@N`.
@Suite struct ArchiveLocationTests {
    @Test func archiveReferences() throws {
        #expect(try ImageLocation(parsing: "oci-archive:/b.tar:127.0.0.1:5000/demo/app:1.0") == .ociArchive(path: "/b.tar", tag: "127.0.0.1:5000/demo/app:1.0"))
        #expect(try ImageLocation(parsing: "oci-archive:b.tar") == .ociArchive(path: "b.tar", tag: nil))
        #expect(try ImageLocation(parsing: "oci-archive:b.tar:") == .ociArchive(path: "b.tar", tag: nil))
        #expect(try ImageLocation(parsing: "docker-archive:/d.tar:@1") == .dockerArchive(path: "/d.tar", reference: "@1"))
        #expect(try ImageLocation(parsing: "docker-archive:/d.tar:localhost:5000/a/b:2") == .dockerArchive(path: "/d.tar", reference: "localhost:5000/a/b:2"))
    }
}
