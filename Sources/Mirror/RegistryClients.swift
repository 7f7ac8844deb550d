import Registry
import Transfer

/// One `RegistryClient` per registry host, made on first use and shared by every task of a job
/// (one ping, one token cache).
actor RegistryClients {
    let engine: CurlEngine
    let options: RegistryOptions
    private var clients: [String: RegistryClient] = [:]

    init(engine: CurlEngine, options: RegistryOptions) {
        self.engine = engine
        self.options = options
    }

    func client(for registry: String) throws -> RegistryClient {
        if let c = self.clients[registry] { return c }
        let c = try RegistryClient(registry: registry, engine: self.engine, options: self.options)
        self.clients[registry] = c
        return c
    }
}
