import Foundation
import OCI
import Testing

@Suite("Reference parsing")
struct ReferenceTests {
    @Test("parses and normalises", arguments: validReferences)
    func parses(_ expected: ValidReference) throws {
        let reference = try Reference(parsing: expected.input)
        #expect(reference.registry == expected.registry)
        #expect(reference.repository == expected.repository)
        #expect(reference.tag == expected.tag)
        #expect(reference.digest?.description == expected.digest)
        if let familiar = expected.familiar {
            #expect(reference.familiar == familiar)
        }
    }

    @Test("description is the full form and parses back to the same reference", arguments: validReferences)
    func roundTrips(_ expected: ValidReference) throws {
        let reference = try Reference(parsing: expected.input)
        var full = "\(expected.registry)/\(expected.repository)"
        if let tag = expected.tag { full += ":\(tag)" }
        if let digest = expected.digest { full += "@\(digest)" }
        #expect(reference.description == full)
        #expect(try Reference(parsing: reference.description) == reference)
        #expect(try Reference(parsing: reference.familiar) == reference)
    }

    @Test func nameIsRegistryAndRepository() throws {
        let reference = try Reference(parsing: "nginx:1.27")
        #expect(reference.name == "docker.io/library/nginx")
        #expect(reference.description == "docker.io/library/nginx:1.27")
    }

    @Test func identifierPrefersTheDigest() throws {
        let tagged = try Reference(parsing: "host:5000/a/b:t")
        #expect(tagged.identifier == "t")
        let both = try Reference(parsing: "host:5000/a/b:t@sha256:\(Fixtures.hexA)")
        #expect(both.identifier == "sha256:\(Fixtures.hexA)")
        let bare = Reference(registry: "host", repository: "a")
        #expect(bare.identifier == "latest")
        #expect(bare.description == "host/a")
    }

    @Test func withTagAndDigestReplaceOnlyThatPart() throws {
        let reference = try Reference(parsing: "quay.io/keycloak/keycloak:26.2.4")
        let digest = Fixtures.digest(Fixtures.hexC)
        let pinned = reference.with(digest: digest)
        #expect(pinned.description == "quay.io/keycloak/keycloak:26.2.4@sha256:\(Fixtures.hexC)")
        let retagged = pinned.with(tag: "27.0.0")
        #expect(retagged.tag == "27.0.0")
        #expect(retagged.digest == digest)
        let digestOnly = pinned.with(tag: nil)
        #expect(digestOnly.description == "quay.io/keycloak/keycloak@sha256:\(Fixtures.hexC)")
        #expect(digestOnly.with(digest: nil).description == "quay.io/keycloak/keycloak")
    }

    @Test(
        "apiRegistry is where the registry API lives",
        arguments: [
            ("nginx", "registry-1.docker.io"),
            ("index.docker.io/library/nginx", "registry-1.docker.io"),
            ("quay.io/a/b", "quay.io"),
            ("localhost:5000/a", "localhost:5000"),
            ("[::1]:5000/x", "[::1]:5000"),
        ]
    )
    func apiRegistry(input: String, host: String) throws {
        #expect(try Reference(parsing: input).apiRegistry == host)
    }

    @Test func codableAsItsDescription() throws {
        let reference = try Reference(parsing: "localhost:5000/a/b:t@sha256:\(Fixtures.hexA)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try encoder.encode([reference])
        #expect(String(decoding: data, as: UTF8.self) == "[\"localhost:5000/a/b:t@sha256:\(Fixtures.hexA)\"]")
        #expect(try JSONDecoder().decode([Reference].self, from: data) == [reference])
        // Decoding normalises like parsing does.
        let short = try JSONDecoder().decode([Reference].self, from: Data("[\"nginx\"]".utf8))
        #expect(short.first?.description == "docker.io/library/nginx:latest")
    }

    @Test func decodingRejectsAnInvalidReference() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([Reference].self, from: Data("[\"Nginx\"]".utf8))
        }
    }

    @Test func hashableByValue() throws {
        let set: Set<Reference> = [
            try Reference(parsing: "nginx"),
            try Reference(parsing: "docker.io/library/nginx:latest"),
            try Reference(parsing: "index.docker.io/nginx"),
        ]
        #expect(set.count == 1)
    }
}
