import Foundation
import TestSupport
import Testing
@testable import Registry

@Suite struct CredentialStoreTests {
    /// Removed when the test ends (each test gets its own suite value): these files hold credentials, fake or not.
    let temporary: TemporaryDirectory
    var dir: String { self.temporary.path }

    init() throws {
        self.temporary = try TemporaryDirectory(prefix: "ferry-creds-")
    }

    func write(_ json: String) throws -> String {
        let path = self.dir + "/config.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func explicitCredsWin() throws {
        let path = try self.write(#"{"auths":{"r.example":{"auth":"dTpw"}}}"#)
        let store = CredentialStore(explicit: try Credential(userColonPassword: "alice:s3:cret"), authFile: path)
        let found = try #require(try store.credential(for: "r.example"))
        #expect(found.credential == .basic(username: "alice", password: "s3:cret"))
        #expect(found.source == "--creds")
    }

    @Test func readsBase64AuthForHostAndDockerHub() throws {
        // "u:p" and "hub:pw"
        let path = try self.write(#"{"auths":{"127.0.0.1:5001":{"auth":"dTpw"},"https://index.docker.io/v1/":{"auth":"aHViOnB3"}}}"#)
        let store = CredentialStore(authFile: path)
        #expect(try store.credential(for: "127.0.0.1:5001")?.credential == .basic(username: "u", password: "p"))
        #expect(try store.credential(for: "docker.io")?.credential == .basic(username: "hub", password: "pw"))
        #expect(try store.credential(for: "other.example") == nil)
    }

    @Test func identityTokenAndUsernamePassword() throws {
        let path = try self.write(#"{"auths":{"a.example":{"identitytoken":"refresh-123"},"https://b.example":{"username":"bob","password":"pw"}}}"#)
        let store = CredentialStore(authFile: path)
        #expect(try store.credential(for: "a.example")?.credential == .identityToken("refresh-123"))
        #expect(try store.credential(for: "b.example")?.credential == .basic(username: "bob", password: "pw"))
    }

    @Test func environmentChoosesTheFile() throws {
        let path = try self.write(#"{"auths":{"env.example":{"auth":"dTpw"}}}"#)
        let store = CredentialStore(environment: ["REGISTRY_AUTH_FILE": path, "HOME": "/nonexistent"])
        #expect(store.defaultAuthFile == path)
        #expect(try store.credential(for: "env.example")?.source == path)
        let home = CredentialStore(environment: ["HOME": "/home/x"])
        #expect(home.defaultAuthFile == "/home/x/.docker/config.json")
    }

    @Test func credentialHelperIsRun() throws {
        // A real helper program on PATH, speaking docker's credential helper protocol.
        let helper = self.dir + "/docker-credential-ferrytest"
        try writeScript(
            """
            #!/bin/sh
            read server
            if [ "$server" = "helped.example" ]; then
              echo '{"ServerURL":"helped.example","Username":"carol","Secret":"from-helper"}'
            elif [ "$server" = "token.example" ]; then
              echo '{"ServerURL":"token.example","Username":"<token>","Secret":"idtok"}'
            else
              echo "credentials not found in native keychain"; exit 1
            fi
            """, to: helper)
        let path = try self.write(#"{"credHelpers":{"helped.example":"ferrytest","token.example":"ferrytest"},"credsStore":"ferrytest"}"#)
        let env = ["PATH": self.dir + ":/usr/bin:/bin"]
        let store = CredentialStore(authFile: path, environment: env)
        let found = try #require(try store.credential(for: "helped.example"))
        #expect(found.credential == .basic(username: "carol", password: "from-helper"))
        #expect(found.source.contains("docker-credential-ferrytest"))
        #expect(try store.credential(for: "token.example")?.credential == .identityToken("idtok"))
        #expect(try store.credential(for: "unknown.example") == nil)
    }

    @Test func malformedInputIsAClearError() throws {
        #expect(throws: RegistryError.self) { try Credential(userColonPassword: "nocolon") }
        let path = try self.write(#"{"auths":{"bad.example":{"auth":"!!!"}}}"#)
        let e = try #require(throws: RegistryError.self) { try CredentialStore(authFile: path).credential(for: "bad.example") }
        #expect(e.message.contains("bad.example"))
        #expect(throws: RegistryError.self) { try CredentialStore(authFile: self.dir + "/missing.json").credential(for: "x") }

        // Said plainly, without Foundation's error dump or Swift type names.
        let directory = try #require(throws: RegistryError.self) { try CredentialStore(authFile: self.dir).credential(for: "x") }
        #expect(directory.message.contains("is a directory"), "\(directory.message)")
        let notJSON = try self.write("{\"auths\": ")
        let corrupt = try #require(throws: RegistryError.self) { try CredentialStore(authFile: notJSON).credential(for: "x") }
        #expect(corrupt.message.contains("not valid JSON"), "\(corrupt.message)")
        let wrongType = try self.write(#"{"auths": []}"#)
        let typed = try #require(throws: RegistryError.self) { try CredentialStore(authFile: wrongType).credential(for: "x") }
        #expect(typed.message.contains("\"auths\" is not an object"), "\(typed.message)")
        for message in [directory.message, corrupt.message, typed.message] {
            #expect(!message.contains("Error Domain") && !message.contains("DecodingError") && !message.contains("Swift."))
        }
    }

    @Test func redactedDescriptionHidesSecrets() throws {
        let c = try Credential(userColonPassword: "alice:topsecret")
        #expect(!c.redactedDescription.contains("topsecret"))
        #expect(!Credential.identityToken("tok-xyz").redactedDescription.contains("tok-xyz"))
    }
}
