import OCI
import Testing

/// A reference that parses, and what it must parse to.
struct ValidReference: Sendable, CustomTestStringConvertible {
    var input: String
    var registry: String
    var repository: String
    var tag: String?
    var digest: String? = nil
    var familiar: String? = nil

    var testDescription: String { self.input.count > 60 ? String(self.input.prefix(60)) + "…" : self.input }
}

let ffff64 = String(repeating: "f", count: 64)
let ffff128 = String(repeating: "f", count: 128)

// Cases from distribution/reference's reference_test.go and normalize_test.go, passed through
// ParseNormalizedNamed (so names without a registry land on docker.io), plus Ferry's own.
let validReferences: [ValidReference] = [
    // Docker Hub normalisation
    .init(input: "nginx", registry: "docker.io", repository: "library/nginx", tag: "latest", familiar: "nginx:latest"),
    .init(input: "user/app", registry: "docker.io", repository: "user/app", tag: "latest", familiar: "user/app:latest"),
    .init(input: "user/app:1", registry: "docker.io", repository: "user/app", tag: "1", familiar: "user/app:1"),
    .init(input: "docker.io/nginx", registry: "docker.io", repository: "library/nginx", tag: "latest"),
    .init(input: "docker.io/library/nginx:1.27", registry: "docker.io", repository: "library/nginx", tag: "1.27",
          familiar: "nginx:1.27"),
    .init(input: "index.docker.io/library/debian", registry: "docker.io", repository: "library/debian", tag: "latest"),
    .init(input: "index.docker.io/debian", registry: "docker.io", repository: "library/debian", tag: "latest"),
    .init(input: "index.docker.io/docker/docker", registry: "docker.io", repository: "docker/docker", tag: "latest"),
    .init(input: "registry-1.docker.io/bitnami/redis:7", registry: "docker.io", repository: "bitnami/redis", tag: "7",
          familiar: "bitnami/redis:7"),
    .init(input: "docker.io/library/foo/bar", registry: "docker.io", repository: "library/foo/bar", tag: "latest",
          familiar: "library/foo/bar:latest"),
    .init(input: "other/library", registry: "docker.io", repository: "other/library", tag: "latest"),
    .init(input: "ubuntu-12.04-base", registry: "docker.io", repository: "library/ubuntu-12.04-base", tag: "latest"),
    .init(input: "nginx@sha256:\(Fixtures.hexA)", registry: "docker.io", repository: "library/nginx", tag: nil,
          digest: "sha256:\(Fixtures.hexA)", familiar: "nginx@sha256:\(Fixtures.hexA)"),
    // Names that look like hosts but have no '/', so Docker reads them as Hub repositories.
    .init(input: "test_com", registry: "docker.io", repository: "library/test_com", tag: "latest"),
    .init(input: "test.com:tag", registry: "docker.io", repository: "library/test.com", tag: "tag"),
    .init(input: "test.com:5000", registry: "docker.io", repository: "library/test.com", tag: "5000"),
    .init(input: "localhost:5000", registry: "docker.io", repository: "library/localhost", tag: "5000"),
    .init(input: "foo_bar.com:8080", registry: "docker.io", repository: "library/foo_bar.com", tag: "8080"),
    .init(input: "foo/foo_bar.com:8080", registry: "docker.io", repository: "foo/foo_bar.com", tag: "8080"),
    .init(input: "192.168.1.1", registry: "docker.io", repository: "library/192.168.1.1", tag: "latest"),
    .init(input: "192.168.1.1:tag", registry: "docker.io", repository: "library/192.168.1.1", tag: "tag"),
    .init(input: "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", registry: "docker.io",
          repository: "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", tag: "latest"),
    // Tags keep their case; only repositories must be lowercase.
    .init(input: "lowercase:Uppercase", registry: "docker.io", repository: "library/lowercase", tag: "Uppercase"),
    // Other registries
    .init(input: "localhost/debian", registry: "localhost", repository: "debian", tag: "latest",
          familiar: "localhost/debian:latest"),
    .init(input: "localhost:5000/a/b:t", registry: "localhost:5000", repository: "a/b", tag: "t"),
    .init(input: "127.0.0.1:5000/x", registry: "127.0.0.1:5000", repository: "x", tag: "latest"),
    .init(input: "127.0.0.1:5000/library/debian", registry: "127.0.0.1:5000", repository: "library/debian",
          tag: "latest"),
    .init(input: "192.168.1.1/repo", registry: "192.168.1.1", repository: "repo", tag: "latest"),
    .init(input: "192.168.1.1:5000/repo:5050", registry: "192.168.1.1:5000", repository: "repo", tag: "5050"),
    .init(input: "[::1]:5000/x", registry: "[::1]:5000", repository: "x", tag: "latest"),
    .init(input: "[2001:db8::1]/repo", registry: "[2001:db8::1]", repository: "repo", tag: "latest"),
    .init(input: "[2001:db8::]:5000/repo", registry: "[2001:db8::]:5000", repository: "repo", tag: "latest"),
    .init(input: "[2001:db8:1:2:3:4:5:6]/repo:tag", registry: "[2001:db8:1:2:3:4:5:6]", repository: "repo",
          tag: "tag"),
    .init(input: "[2001:db8::1]:5000/repo:tag@sha256:\(ffff64)", registry: "[2001:db8::1]:5000", repository: "repo",
          tag: "tag", digest: "sha256:\(ffff64)"),
    .init(input: "test:5000/repo@sha256:\(ffff64)", registry: "test:5000", repository: "repo", tag: nil,
          digest: "sha256:\(ffff64)"),
    .init(input: "host:5000/a/b:t@sha256:\(Fixtures.hexB)", registry: "host:5000", repository: "a/b", tag: "t",
          digest: "sha256:\(Fixtures.hexB)"),
    .init(input: "quay.io/keycloak/keycloak:26.2.4", registry: "quay.io", repository: "keycloak/keycloak",
          tag: "26.2.4", familiar: "quay.io/keycloak/keycloak:26.2.4"),
    .init(input: "sub-dom1.foo.com/bar/baz/quux:some-long-tag", registry: "sub-dom1.foo.com",
          repository: "bar/baz/quux", tag: "some-long-tag"),
    .init(input: "b.gcr.io/test.example.com/my-app:test.example.com", registry: "b.gcr.io",
          repository: "test.example.com/my-app", tag: "test.example.com"),
    .init(input: "xn--n3h.com/myimage:xn--n3h.com", registry: "xn--n3h.com", repository: "myimage",
          tag: "xn--n3h.com"),
    .init(input: "xn--7o8h.com/myimage:xn--7o8h.com@sha512:\(ffff128)", registry: "xn--7o8h.com",
          repository: "myimage", tag: "xn--7o8h.com", digest: "sha512:\(ffff128)"),
    .init(input: "ghcr.io/org/app:v1.2.3_build-4", registry: "ghcr.io", repository: "org/app", tag: "v1.2.3_build-4"),
    .init(input: "registry.k8s.io/a/b__c/d---e/f.g_h", registry: "registry.k8s.io",
          repository: "a/b__c/d---e/f.g_h", tag: "latest"),
    // Hosts are case-insensitive and kept as written.
    .init(input: "Registry.Example.COM:443/team/app:v2", registry: "Registry.Example.COM:443", repository: "team/app",
          tag: "v2"),
    // Exactly 255 characters of name is allowed.
    .init(input: "a.b/" + String(repeating: "a/", count: 125) + "a", registry: "a.b",
          repository: String(repeating: "a/", count: 125) + "a", tag: "latest"),
]
