import OCI
import Testing

/// A reference that must be refused, and a fragment the message must hold to say why.
struct InvalidReference: Sendable, CustomTestStringConvertible {
    var input: String
    var because: String

    var testDescription: String { self.input.count > 60 ? String(self.input.prefix(60)) + "…" : self.input }
}

// Docker's own failures (distribution/reference tests, docker/registry TestValidateRepositoryName) and
// the mistakes users make in image lists.
let invalidReferences: [InvalidReference] = [
    .init(input: "", because: "it is empty"),
    .init(input: ":justtag", because: "repository name is missing"),
    .init(input: "@sha256:\(ffff64)", because: "repository name is missing"),
    .init(input: "repo@sha256:ffffffffffffffffffffffffffffffffff", because: "sha256 needs 64 hex digits, found 34"),
    .init(input: "validname@invaliddigest:\(ffff64)", because: "unsupported algorithm \"invaliddigest\""),
    .init(input: "nginx@sha256:\(Fixtures.hexA.uppercased())", because: "hex digits must be lowercase"),
    .init(input: "nginx@\(Fixtures.hexA)", because: "expected ALGORITHM:HEX"),
    .init(input: "nginx:1.0@", because: "invalid digest"),
    .init(input: "Uppercase:tag", because: "repository names must be lowercase"),
    .init(input: "Nginx", because: "repository names must be lowercase"),
    .init(input: "test:5000/Uppercase/lowercase:tag", because: "repository names must be lowercase"),
    .init(input: "docker/Docker", because: "repository names must be lowercase"),
    // distribution/reference v0.5+ would read "Docker" as a host; Ferry keeps it a path and says why it fails.
    .init(input: "Docker/docker", because: "repository names must be lowercase"),
    .init(input: "MyOrg/app:1.0", because: "repository names must be lowercase"),
    .init(input: "docker.io/docker/Docker", because: "repository names must be lowercase"),
    .init(input: "a//b", because: "empty component"),
    .init(input: "docker///docker", because: "empty component"),
    .init(input: "docker.io/docker///docker", because: "empty component"),
    .init(input: "nginx/", because: "empty component"),
    .init(input: "/nginx", because: "empty component"),
    .init(input: "localhost:5000/", because: "empty component"),
    .init(input: "aa/asdf$$^/aa", because: "component \"asdf$$^\" is invalid"),
    .init(input: "-docker", because: "component \"-docker\" is invalid"),
    .init(input: "-docker/docker", because: "component \"-docker\" is invalid"),
    .init(input: "a_/b", because: "component \"a_\" is invalid"),
    .init(input: "a___b", because: "component \"a___b\" is invalid"),
    .init(input: "a.-b", because: "component \"a.-b\" is invalid"),
    .init(input: "nginx latest", because: "component \"nginx latest\" is invalid"),
    .init(input: "ñginx", because: "is invalid"),
    .init(input: "-docker.io/docker/docker", because: "registry \"-docker.io\" is not a valid HOST[:PORT]"),
    .init(input: "my_host.com/app", because: "registry \"my_host.com\" is not a valid HOST[:PORT]"),
    .init(input: "https://github.com/docker/docker", because: "without http:// or https://"),
    .init(input: "host:50a0/repo", because: "has an invalid port"),
    .init(input: "[fe80::1%eth0]:5000/repo", because: "is not a valid HOST[:PORT]"),
    .init(input: "[2001:db8:3:4::192.0.2.33]:5000/repo", because: "is not a valid HOST[:PORT]"),
    .init(input: "[2001:db8::1]", because: "needs a repository"),
    .init(input: "[2001:db8::1]:5000", because: "needs a repository"),
    .init(input: "[2001:db8::1]:tag", because: "needs a repository"),
    .init(input: "nginx:", because: "tag after ':' is empty"),
    .init(input: "nginx:-bad", because: "tag \"-bad\" is invalid"),
    .init(input: "nginx:.bad", because: "tag \".bad\" is invalid"),
    .init(input: "nginx:a+b", because: "tag \"a+b\" is invalid"),
    .init(input: "nginx:" + String(repeating: "t", count: 129), because: "is invalid: up to 128"),
    .init(input: "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", because: "image ID"),
    .init(input: String(repeating: "a/", count: 128) + "a:tag", because: "the limit is 255"),
    // Valid for distribution's plain Parse, but "docker.io/" makes it 265 characters once normalised.
    .init(input: String(repeating: "a/", count: 127) + "a:tag-puts-this-over-max", because: "265 characters"),
    .init(input: "a.b/" + String(repeating: "a/", count: 125) + "aa", because: "256 characters"),
]

@Suite("Reference parsing: refusals")
struct ReferenceInvalidTests {
    @Test("refuses with a message naming the input and the problem", arguments: invalidReferences)
    func refuses(_ expected: InvalidReference) {
        do {
            let reference = try Reference(parsing: expected.input)
            Issue.record("parsed \(expected.input) as \(reference), expected an error")
        } catch {
            #expect(error.code == .invalidReference)
            #expect(error.message.hasPrefix("invalid reference \""))
            #expect(error.message.contains(expected.because), "message: \(error.message)")
        }
    }

    @Test func uppercaseMessageIsExact() {
        let expected = OCIError(
            code: .invalidReference,
            message: "invalid reference \"Nginx\": repository names must be lowercase"
        )
        #expect(throws: expected) {
            try Reference(parsing: "Nginx")
        }
    }

    @Test func longInputIsCutShortInTheMessage() {
        let input = String(repeating: "a/", count: 400) + "a"
        do {
            _ = try Reference(parsing: input)
            Issue.record("a 801-character name parsed")
        } catch {
            #expect(error.message.count < 500)
            #expect(error.message.contains("the limit is 255"))
        }
    }
}
