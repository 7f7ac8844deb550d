import Foundation
import OCI
import Testing

@Suite("Platform")
struct PlatformTests {
    @Test(
        "parses os/arch[/variant]",
        arguments: [
            ("linux/amd64", "linux", "amd64", nil, "linux/amd64"),
            ("linux/arm64/v8", "linux", "arm64", "v8", "linux/arm64/v8"),
            ("linux/arm/v7", "linux", "arm", "v7", "linux/arm/v7"),
            ("linux/arm64", "linux", "arm64", nil, "linux/arm64"),
            ("Linux/AMD64", "linux", "amd64", nil, "linux/amd64"),
            ("linux/aarch64", "linux", "arm64", nil, "linux/arm64"),
            ("linux/x86_64", "linux", "amd64", nil, "linux/amd64"),
            ("linux/x86-64", "linux", "amd64", nil, "linux/amd64"),
            ("linux/i386", "linux", "386", nil, "linux/386"),
            ("linux/armhf", "linux", "arm", "v7", "linux/arm/v7"),
            ("linux/armel", "linux", "arm", "v6", "linux/arm/v6"),
            ("macos/arm64", "darwin", "arm64", nil, "darwin/arm64"),
            ("windows/amd64", "windows", "amd64", nil, "windows/amd64"),
            ("linux/ppc64le", "linux", "ppc64le", nil, "linux/ppc64le"),
            ("linux/s390x", "linux", "s390x", nil, "linux/s390x"),
            ("linux/riscv64", "linux", "riscv64", nil, "linux/riscv64"),
            ("unknown/unknown", "unknown", "unknown", nil, "unknown/unknown"),
        ] as [(String, String, String, String?, String)]
    )
    func parses(input: String, os: String, architecture: String, variant: String?, description: String) throws {
        let platform = try Platform(parsing: input)
        #expect(platform.os == os)
        #expect(platform.architecture == architecture)
        #expect(platform.variant == variant)
        #expect(platform.description == description)
    }

    @Test(
        "refuses malformed platforms",
        arguments: ["", "linux", "linux/", "/amd64", "linux/amd64/", "linux/arm64/v8/extra", "linux amd64",
                    "linux/amd 64", "linux/amd64,linux/arm64", "all"]
    )
    func refuses(input: String) {
        do {
            let platform = try Platform(parsing: input)
            Issue.record("accepted \(platform)")
        } catch {
            #expect(error.code == .invalidPlatform)
            #expect(error.message.hasPrefix("invalid platform \"\(input)\""))
        }
    }

    @Test(
        "matches like containerd, a wanted platform without variant accepting any",
        arguments: [
            // have, wanted, matches
            ("linux/arm64/v8", "linux/arm64", true),
            ("linux/arm64", "linux/arm64/v8", true),
            ("linux/arm64/v8", "linux/arm64/v8", true),
            ("linux/arm64", "linux/aarch64", true),
            ("linux/arm64/v9", "linux/arm64/v8", false),
            ("linux/arm/v7", "linux/arm", true),
            ("linux/arm/v6", "linux/arm", true),
            ("linux/arm/v6", "linux/arm/v7", false),
            ("linux/arm", "linux/arm/v7", true),
            ("linux/arm/7", "linux/arm/v7", true),
            ("linux/amd64", "linux/amd64/v1", true),
            ("linux/amd64/v3", "linux/amd64", true),
            ("linux/amd64", "linux/amd64/v3", false),
            ("linux/x86_64", "linux/amd64", true),
            ("linux/amd64", "linux/arm64", false),
            ("windows/amd64", "linux/amd64", false),
            ("unknown/unknown", "linux/amd64", false),
        ]
    )
    func matches(have: String, wanted: String, expected: Bool) throws {
        let have = try Platform(parsing: have)
        let wanted = try Platform(parsing: wanted)
        #expect(have.matches(wanted) == expected)
    }

    @Test func matchesUnparsedIndexEntries() {
        // Index entries arrive through JSON, not `init(parsing:)`, so aliases and case are unnormalised there.
        let entry = Platform(os: "Linux", architecture: "aarch64", variant: "8")
        #expect(entry.matches(.linuxARM64))
        #expect(entry.matches(Platform(os: "linux", architecture: "arm64", variant: "v8")))
        #expect(!entry.matches(.linuxAMD64))
    }

    @Test func osVersionMustMatchWhenWanted() {
        let server2019 = Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6532")
        let server2022 = Platform(os: "windows", architecture: "amd64", osVersion: "10.0.20348.2849")
        #expect(server2019.matches(Platform(os: "windows", architecture: "amd64")))
        #expect(server2019.matches(server2019))
        #expect(!server2022.matches(server2019))
    }

    @Test func normalizedFollowsContainerd() throws {
        #expect(try Platform(parsing: "linux/arm64/v8").normalized == .linuxARM64)
        let armV7 = Platform(os: "linux", architecture: "arm", variant: "v7")
        #expect(try Platform(parsing: "linux/arm").normalized == armV7)
        #expect(Platform(os: "linux", architecture: "amd64", variant: "v1").normalized == .linuxAMD64)
    }

    @Test func attestation() throws {
        #expect(try Platform(parsing: "unknown/unknown").isAttestation)
        #expect(!Platform.linuxAMD64.isAttestation)
        #expect(!Platform(os: "unknown", architecture: "amd64").isAttestation)
    }

    @Test func jsonKeysFollowTheSpec() throws {
        let platform = Platform(
            os: "windows",
            architecture: "amd64",
            variant: nil,
            osVersion: "10.0.17763.6532",
            osFeatures: ["win32k"]
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(platform), as: UTF8.self)
        let expected = #"{"architecture":"amd64","os":"windows","os.features":["win32k"],"#
            + #""os.version":"10.0.17763.6532"}"#
        #expect(json == expected)
        #expect(try JSONDecoder().decode(Platform.self, from: Data(json.utf8)) == platform)
    }

    @Test func minimalJSONOmitsNils() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(Platform.linuxARM64), as: UTF8.self)
        #expect(json == #"{"architecture":"arm64","os":"linux"}"#)
    }
}
