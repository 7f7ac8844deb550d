import Synchronization
import Testing
@testable import Registry

/// The order in which the scheme of a registry is probed, with the network replaced by a table of answers.
@Suite struct EndpointTests {
    /// Records every ping and answers from `up`: a URL in it answers as a registry; any other fails with a TLS error
    /// for https and a 400 for http (what a TLS port answers a plain request with), each naming its URL.
    final class Pings: Sendable {
        let asked = Mutex<[String]>([])
        let up: Set<String>

        init(up: Set<String>) { self.up = up }

        func ping(_ url: String, _ retrying: Bool) throws {
            self.asked.withLock { $0.append(retrying ? url : "probe " + url) }
            guard self.up.contains(url) else {
                throw url.hasPrefix("https:") ? RegistryError(.tls, "\(url): certificate signed by unknown authority") : RegistryError(.badResponse, "\(url): HTTP 400")
            }
        }
    }

    @Test("plain HTTP on an explicit port: one probe, no TLS handshake")
    func plainOnExplicitPort() async throws {
        let pings = Pings(up: ["http://127.0.0.1:5000"])
        let endpoint = Endpoint(host: "127.0.0.1:5000", allowPlainHTTP: true, plainFirst: true)
        #expect(try await endpoint.resolve(ping: pings.ping) == "http://127.0.0.1:5000")
        #expect(try await endpoint.resolve(ping: pings.ping) == "http://127.0.0.1:5000")
        #expect(pings.asked.withLock { $0 } == ["probe http://127.0.0.1:5000"])
    }

    @Test("TLS on an explicit port: the plain probe fails once, then HTTPS")
    func tlsOnExplicitPort() async throws {
        let pings = Pings(up: ["https://[::1]:5000"])
        let endpoint = Endpoint(host: "[::1]:5000", allowPlainHTTP: true, plainFirst: true)
        #expect(try await endpoint.resolve(ping: pings.ping) == "https://[::1]:5000")
        #expect(pings.asked.withLock { $0 } == ["probe http://[::1]:5000", "https://[::1]:5000"])
    }

    @Test("without a port the schemes reach different listeners (443, 80): HTTPS first, as docker does")
    func noPortHTTPSFirst() async throws {
        let pings = Pings(up: ["http://localhost", "https://localhost"])
        #expect(try await Endpoint(host: "localhost", allowPlainHTTP: true).resolve(ping: pings.ping) == "https://localhost")
        #expect(pings.asked.withLock { $0 } == ["https://localhost"])

        let plainOnly = Pings(up: ["http://localhost"])
        #expect(try await Endpoint(host: "localhost", allowPlainHTTP: true).resolve(ping: plainOnly.ping) == "http://localhost")
        #expect(plainOnly.asked.withLock { $0 } == ["https://localhost", "http://localhost"])
    }

    @Test("plain HTTP not allowed: no plain request at all, and the HTTPS error is the one reported")
    func plainNotAllowed() async throws {
        let pings = Pings(up: ["http://registry.example:5000"])
        let endpoint = Endpoint(host: "registry.example:5000", allowPlainHTTP: false)
        await #expect(throws: RegistryError.self) { try await endpoint.resolve(ping: pings.ping) }
        #expect(pings.asked.withLock { $0 } == ["https://registry.example:5000"])
    }

    @Test("nothing answers: the HTTPS failure explains, not the plain one, whichever came first")
    func nothingAnswers() async throws {
        for plainFirst in [true, false] {
            let pings = Pings(up: [])
            let endpoint = Endpoint(host: "127.0.0.1:5000", allowPlainHTTP: true, plainFirst: plainFirst)
            let error = await #expect(throws: RegistryError.self) { try await endpoint.resolve(ping: pings.ping) }
            #expect(error?.message == "https://127.0.0.1:5000: certificate signed by unknown authority")
        }
    }

    @Test("not loopback: HTTPS first even with a port and --tls-verify=false (a proxy could answer plain HTTP where HTTPS works)")
    func remoteHTTPSFirst() async throws {
        let pings = Pings(up: ["http://registry.example:5000", "https://registry.example:5000"])
        let endpoint = Endpoint(host: "registry.example:5000", allowPlainHTTP: true)
        #expect(try await endpoint.resolve(ping: pings.ping) == "https://registry.example:5000")
        #expect(pings.asked.withLock { $0 } == ["https://registry.example:5000"])
    }

    @Test func explicitPort() {
        #expect(Endpoint.hasExplicitPort("127.0.0.1:5000"))
        #expect(Endpoint.hasExplicitPort("[::1]:5000"))
        #expect(!Endpoint.hasExplicitPort("[::1]"))
        #expect(!Endpoint.hasExplicitPort("registry.example"))
        #expect(!Endpoint.hasExplicitPort("::1"))
    }
}
