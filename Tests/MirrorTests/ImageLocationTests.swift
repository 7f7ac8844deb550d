import Testing
@testable import Mirror
import OCI

@Suite struct ImageLocationTests {
    @Test func registryReferences() throws {
        #expect(try ImageLocation(parsing: "docker://nginx") == .registry(try Reference(parsing: "docker.io/library/nginx:latest")))
        #expect(try ImageLocation(parsing: "quay.io/keycloak/keycloak:26.2.4", bareIsRegistry: true) == .registry(try Reference(parsing: "quay.io/keycloak/keycloak:26.2.4")))
    }

    @Test func layoutsWithAndWithoutTags() throws {
        #expect(try ImageLocation(parsing: "oci:/tmp/x") == .layout(path: "/tmp/x", tag: nil))
        #expect(try ImageLocation(parsing: "oci:/tmp/x:v1") == .layout(path: "/tmp/x", tag: "v1"))
        #expect(try ImageLocation(parsing: "oci:./rel/dir:1.2") == .layout(path: "./rel/dir", tag: "1.2"))
        #expect(try ImageLocation(parsing: "oci-archive:/b.tar:app") == .ociArchive(path: "/b.tar", tag: "app"))
        #expect(try ImageLocation(parsing: "docker-archive:/d.tar:nginx:1") == .dockerArchive(path: "/d.tar", reference: "nginx:1"))
    }

    @Test func refusesWhatItCannotRead() {
        for bad in ["nginx", "oci:", "docker://UPPER/Case:tag!", "oci-archive:", "ftp://x"] {
            #expect(throws: MirrorError.self, "\(bad)") { try ImageLocation(parsing: bad) }
        }
    }

    @Test func platformChoice() throws {
        #expect(try PlatformChoice(parsing: "all") == .all)
        #expect(try PlatformChoice(parsing: "linux/arm64") == .one(Platform(os: "linux", architecture: "arm64")))
        #expect(throws: MirrorError.self) { try PlatformChoice(parsing: "linux") }
    }
}
