import Testing
@testable import Registry

@Suite struct ChallengeTests {
    @Test func parsesDockerHubBearer() throws {
        let c = try #require(Challenge(header: #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#))
        #expect(c.scheme == .bearer)
        #expect(c.realm == "https://auth.docker.io/token")
        #expect(c.service == "registry.docker.io")
        #expect(c.scope == "repository:library/nginx:pull")
    }

    @Test func parsesBasicWithSpacesAndCase() throws {
        let c = try #require(Challenge(header: #"basic   realm = "Registry Realm" "#))
        #expect(c.scheme == .basic)
        #expect(c.realm == "Registry Realm")
    }

    @Test func keepsCommasAndEscapesInsideQuotes() throws {
        let c = try #require(Challenge(header: #"Bearer realm="http://a/token",scope="repository:a/b:pull,push",error="insufficient_scope",note="say \"hi\"""#))
        #expect(c.scope == "repository:a/b:pull,push")
        #expect(c.error == "insufficient_scope")
        #expect(c.parameters["note"] == #"say "hi""#)
    }

    @Test func unquotedValuesAndUnknownScheme() throws {
        let c = try #require(Challenge(header: "Negotiate realm=corp,x=1"))
        #expect(c.scheme == .other("Negotiate"))
        #expect(c.realm == "corp")
        #expect(c.parameters["x"] == "1")
    }

    @Test func emptyHeaderIsNotAChallenge() {
        #expect(Challenge(header: "") == nil)
        #expect(Challenge(header: "   ") == nil)
    }
}
