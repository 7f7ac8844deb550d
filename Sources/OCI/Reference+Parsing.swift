extension Reference {
    /// Parses a reference with Docker's normalisation (distribution/reference `ParseNormalizedNamed`).
    ///
    /// `nginx` → `docker.io/library/nginx:latest`, `user/app` → `docker.io/user/app:latest`,
    /// `localhost:5000/a/b:t`, `[::1]:5000/x`, `host/a@sha256:…`. The first path component is the
    /// registry when it has a `.` or `:` or is `localhost`; `index.docker.io` and `registry-1.docker.io`
    /// become `docker.io`.
    public init(parsing input: String) throws(OCIError) {
        func fail(_ why: String) -> OCIError { .invalidReference(input, why) }

        guard !input.isEmpty else {
            throw fail("it is empty; expected [REGISTRY/]REPOSITORY[:TAG][@DIGEST]")
        }
        if input.hasPrefix("http://") || input.hasPrefix("https://") {
            throw fail("a reference is HOST/REPOSITORY[:TAG], without http:// or https:// (Ferry tries HTTPS; for a plain-HTTP registry pass --tls-verify=false)")
        }
        if input.utf8.count == 64, input.utf8.allSatisfy(ASCII.isHexDigit) {
            throw fail("64 hex digits are an image ID, not a name; to pin content write NAME@sha256:<hex>")
        }

        var rest = Substring(input)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do {
                digest = try Digest(String(rest[rest.index(after: at)...]))
            } catch {
                throw fail(error.message)
            }
            rest = rest[..<at]
        }

        // Without this, "[::1]:5000" would fail as a strange tag rather than as the missing path it is.
        if rest.hasPrefix("["), !rest.contains("/") {
            throw fail("a registry needs a repository after it, e.g. [::1]:5000/app")
        }

        // The tag is after a ':' in the last path component; a ':' before a '/' is the registry's port.
        var tag: String?
        let lastComponent = rest.lastIndex(of: "/").map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[lastComponent...].firstIndex(of: ":") {
            let text = rest[rest.index(after: colon)...]
            if let why = Self.tagProblem(text) { throw fail(why) }
            tag = String(text)
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else {
            throw fail("the repository name is missing")
        }

        var (registry, repository) = Self.splitRegistry(rest)
        if let why = Self.registryProblem(registry) { throw fail(why) }
        if registry == "index.docker.io" || registry == Self.dockerHubAPI {
            registry = Substring(Self.dockerHub)
        }
        if repository.utf8.contains(where: ASCII.isUpper) {
            throw fail("repository names must be lowercase")
        }
        if let why = Self.repositoryProblem(repository) { throw fail(why) }
        if registry == Self.dockerHub, !repository.contains("/") {
            repository = "library/" + repository
        }
        let nameLength = registry.utf8.count + 1 + repository.utf8.count
        guard nameLength <= 255 else {
            throw fail("the name \(registry)/… is \(nameLength) characters long; the limit is 255")
        }

        if tag == nil, digest == nil {
            tag = "latest"
        }
        self.init(registry: String(registry), repository: String(repository), tag: tag, digest: digest)
    }
}

extension Reference {
    /// Splits off the registry (Docker's `splitDockerDomain`), defaulting to Docker Hub.
    static func splitRegistry(_ name: Substring) -> (registry: Substring, repository: Substring) {
        guard let slash = name.firstIndex(of: "/") else {
            return (Substring(dockerHub), name)
        }
        let first = name[..<slash]
        // distribution/reference v0.5+ also takes an uppercase first component ("Org/app") for a host.
        // That is almost always a typo for a Hub repository, so it stays a path and fails as not lowercase.
        let isHost = first.contains(".") || first.contains(":") || first == "localhost"
        guard isHost else {
            return (Substring(dockerHub), name)
        }
        return (first, name[name.index(after: slash)...])
    }

    /// Why `host` is not `host[:port]` (domain name, IPv4, or `[IPv6]`); nil when it is valid.
    static func registryProblem(_ host: Substring) -> String? {
        let why = "registry \(quoted(host)) is not a valid HOST[:PORT] (letters, digits, '-' and '.', or [IPv6])"
        var name = host
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return why }
            let address = host[host.index(after: host.startIndex)..<close]
            let isIPv6Byte: (UInt8) -> Bool = { byte in
                ASCII.isDigit(byte) || byte == UInt8(ascii: ":")
                    || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
            }
            guard !address.isEmpty, address.utf8.allSatisfy(isIPv6Byte) else { return why }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return why }
                port = after.dropFirst()
            }
        } else {
            if let colon = host.firstIndex(of: ":") {
                name = host[..<colon]
                port = host[host.index(after: colon)...]
            }
            for label in name.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = label.utf8
                guard let first = bytes.first, let last = bytes.last,
                    ASCII.isAlphanumeric(first), ASCII.isAlphanumeric(last),
                    bytes.allSatisfy({ ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
                else { return why }
            }
        }
        if let port, port.isEmpty || !port.utf8.allSatisfy(ASCII.isDigit) {
            return "registry \(quoted(host)) has an invalid port; expected digits after ':'"
        }
        return nil
    }

    /// Why `path` is not a repository path (`component(/component)*`); nil when it is valid.
    static func repositoryProblem(_ path: Substring) -> String? {
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty {
                return "repository path \(quoted(path)) has an empty component "
                    + "(a \"//\" or a leading or trailing \"/\")"
            }
            if !isPathComponent(component) {
                return "repository path component \(quoted(component)) is invalid: use lowercase letters and "
                    + "digits, separated by '.', '_', '__' or '-', starting and ending with a letter or digit"
            }
        }
        return nil
    }

    /// `[a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*`: Docker's path-component grammar.
    static func isPathComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        var index = 0
        func alphanumericRun() -> Bool {
            let start = index
            while index < bytes.count, ASCII.isLowerAlphanumeric(bytes[index]) { index += 1 }
            return index > start
        }
        guard alphanumericRun() else { return false }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
            case UInt8(ascii: "_"):
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "_") { index += 1 }
            case UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            default:
                return false
            }
            guard alphanumericRun() else { return false }
        }
        return true
    }

    /// Why `tag` is not `[\w][\w.-]{0,127}`; nil when it is valid.
    static func tagProblem(_ tag: Substring) -> String? {
        guard let first = tag.utf8.first else {
            return "the tag after ':' is empty"
        }
        let valid = ASCII.isWord(first) && tag.utf8.count <= 128
            && tag.utf8.allSatisfy { ASCII.isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        guard valid else {
            return "tag \(quoted(tag)) is invalid: up to 128 letters, digits, '_', '.' and '-', "
                + "not starting with '.' or '-'"
        }
        return nil
    }
}
