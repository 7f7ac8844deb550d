import Foundation

/// How each phase is run, for Ferry and for each peer: the same data, the same kind of target, one run at a time.
extension Session {
    mutating func measure(_ phase: Phase) async throws -> PhaseResult? {
        if phase == .throttled { return try await self.measureThrottled() }
        let peers = self.scenario.compare.filter { $0.phases.contains(phase) }
        let bytes = phase.isCodec ? self.scenario.codecBytes : self.imageBytes
        var ferry: [RunSample] = [], ferryCommand = ""
        var peerRuns = Array(repeating: [RunSample](), count: peers.count)
        var peerCommands = Array(repeating: "", count: peers.count)
        for run in 1...self.scenario.runs {
            let (sample, command) = try await self.runFerry(phase, run: run, bytes: bytes)
            ferry.append(sample)
            if run == 1 { ferryCommand = command }
            var line = "\(phase.rawValue) \(run)/\(self.scenario.runs): ferry \(Self.describe(sample))"
            for (index, peer) in peers.enumerated() {
                let (sample, command) = try await self.runPeer(peer, phase, run: run, bytes: bytes)
                peerRuns[index].append(sample)
                if run == 1 { peerCommands[index] = command }
                line += " | \(self.peerName(peer)) \(Self.describe(sample))"
            }
            self.log(line)
        }
        let median = ferry.mbPerSecond.median
        return PhaseResult(
            phase: phase, bytes: bytes, command: ferryCommand, runs: ferry,
            peers: peers.indices.map { PeerResult(name: self.peerName(peers[$0]), command: peerCommands[$0], runs: peerRuns[$0], ferryMedian: median) })
    }

    func peerName(_ peer: Peer) -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        switch peer {
        case .skopeo: return "skopeo"
        case .aria2: return "aria2c -x\(self.scenario.throttleConnections)"
        case .pigz: return "pigz -p\(cores)"
        case .zstd: return "zstd -T\(cores)"
        case .openssl: return "openssl"
        }
    }

    static func describe(_ sample: RunSample) -> String {
        String(format: "%.2f s %@ MB/s", sample.wallSeconds, Format.rate(sample.mbPerSecond))
    }

    // MARK: Ferry

    private mutating func runFerry(_ phase: Phase, run: Int, bytes: Int64) async throws -> (RunSample, String) {
        let ferry = [self.tools.ferry]
        let flags = ["--progress", "json"] + self.registryFlags()
        let ns = self.namespace
        switch phase {
        case .push:
            let target = try await self.target()
            defer { self.release(target) }
            let steps = self.layouts.enumerated().map { index, layout in
                ferry + ["copy"] + flags + ["oci:\(layout):1", "docker://\(target.address)/\(ns)/push-\(run)-\(index):1"]
            }
            for index in self.layouts.indices { self.remember("\(target.address)/\(ns)/push-\(run)-\(index):1") }
            return try await self.execute(steps, bytes: bytes)
        case .pull:
            let directory = try self.scratch("pull")
            defer { self.discard(directory) }
            let steps = self.sources.enumerated().map { index, source in
                ferry + ["copy"] + flags + ["docker://\(source)", "oci:\(directory)/\(index)"]
            }
            return try await self.execute(steps, bytes: bytes)
        case .save:
            let directory = try self.scratch("save")
            defer { self.discard(directory) }
            return try await self.execute([ferry + ["save"] + flags + ["-o", "\(directory)/bundle.tar"] + self.sources], bytes: bytes)
        case .load:
            let target = try await self.target()
            defer { self.release(target) }
            let to = "\(target.address)/\(ns)/load-\(run)"
            for index in self.sources.indices { self.remember("\(to)/src-\(index):1") }
            return try await self.execute([ferry + ["load"] + flags + [self.bundle!, "--to", to, "--layout", "flat"]], bytes: bytes)
        case .sync:
            let target = try await self.target()
            defer { self.release(target) }
            let to = "\(target.address)/\(ns)/sync-\(run)"
            for index in self.sources.indices { self.remember("\(to)/src-\(index):1") }
            return try await self.execute([ferry + ["sync"] + flags + self.sources + ["--to", to, "--layout", "flat"]], bytes: bytes)
        case .hash:
            return try await self.execute([[self.tools.testkit, "codec", "sha256", self.codecFile!]], bytes: bytes)
        case .gzip, .zstd:
            let encode = phase == .gzip ? ["--encode", "gzip", "--level", "6"] : ["--encode", "zstd", "--level", "3"]
            return try await self.execute(
                [[self.tools.testkit, "codec", "pipe", "--in", self.codecFile!, "--out", "/dev/null", "--hash", "none"] + encode],
                bytes: bytes)
        case .throttled:
            preconditionFailure("measured by measureThrottled")
        }
    }

    // MARK: peers

    private mutating func runPeer(_ peer: Peer, _ phase: Phase, run: Int, bytes: Int64) async throws -> (RunSample, String) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let ns = self.namespace
        switch (peer, phase) {
        case (.skopeo, _):
            let skopeo = [try self.tools.path(of: .skopeo), "copy", "-q", "--insecure-policy"]
            switch phase {
            case .push, .load:
                let target = try await self.target()
                defer { self.release(target) }
                let steps = self.layouts.enumerated().map { index, layout in
                    let to = "\(target.address)/\(ns)/skopeo-\(phase.rawValue)-\(run)/src-\(index):1"
                    return skopeo + self.skopeoFlags("dest-") + ["oci:\(layout):1", "docker://\(to)"]
                }
                for index in self.layouts.indices { self.remember("\(target.address)/\(ns)/skopeo-\(phase.rawValue)-\(run)/src-\(index):1") }
                return try await self.execute(steps, bytes: bytes)
            case .pull, .save:
                // pull: one layout per image, as ferry copy does; save: every image into one layout, the closest
                // skopeo has to a bundle (and its faster path: docker-archive is slower).
                let directory = try self.scratch("skopeo-\(phase.rawValue)")
                defer { self.discard(directory) }
                let steps = self.sources.enumerated().map { index, source in
                    let to = phase == .pull ? "oci:\(directory)/\(index):1" : "oci:\(directory)/bundle:src-\(index)"
                    return skopeo + self.skopeoFlags("src-") + ["docker://\(source)", to]
                }
                return try await self.execute(steps, bytes: bytes)
            case .sync:
                let target = try await self.target()
                defer { self.release(target) }
                let steps = self.sources.enumerated().map { index, source in
                    let to = "\(target.address)/\(ns)/skopeo-sync-\(run)/src-\(index):1"
                    return skopeo + self.skopeoFlags("src-") + self.skopeoFlags("dest-") + ["docker://\(source)", "docker://\(to)"]
                }
                for index in self.sources.indices { self.remember("\(target.address)/\(ns)/skopeo-sync-\(run)/src-\(index):1") }
                return try await self.execute(steps, bytes: bytes)
            default:
                preconditionFailure("skopeo has no \(phase) phase")
            }
        case (.openssl, .hash):
            return try await self.execute([[try self.tools.path(of: .openssl), "dgst", "-sha256", self.codecFile!]], bytes: bytes)
        case (.pigz, .gzip):
            return try await self.execute(
                [[try self.tools.path(of: .pigz), "-p", "\(cores)", "-6", "-c", self.codecFile!]], bytes: bytes, stdoutToNull: true)
        case (.zstd, .zstd):
            return try await self.execute(
                [[try self.tools.path(of: .zstd), "-q", "-T\(cores)", "-3", "-c", self.codecFile!]], bytes: bytes, stdoutToNull: true)
        default:
            preconditionFailure("\(peer) has no \(phase) phase")
        }
    }

    // MARK: throttled

    /// One big blob through `ferry-testkit proxy --fault throttle=RATE` in front of the registry: Ferry with N
    /// connections (the figure the gate compares), Ferry with one, and aria2c -xN when asked.
    private mutating func measureThrottled() async throws -> PhaseResult? {
        if !self.allowsPlainHTTP {
            self.log("throttled: skipped, the capping proxy speaks plain HTTP to the registry; pass --tls-verify=false for a plain-HTTP registry")
            return nil
        }
        let n = self.scenario.throttleConnections
        let layout = "\(self.work)/images/throttled"
        self.log("throttled: one \(Format.bytes(self.scenario.throttleBytes)) blob at \(Format.rate(Double(self.scenario.throttleRate) / 1e6)) MB/s per connection …")
        _ = try await measured(
            [self.tools.testkit, "image", "--out", layout, "--tag", "1", "--size", "\(self.scenario.throttleBytes)", "--layers", "1", "--seed", "4242"],
            environment: nil)
        let sizes = try Self.blobSizes(in: layout)
        let bytes = sizes.values.reduce(0, +)
        let reference = "\(self.namespace)/big:1"
        _ = try await measured(
            [self.tools.ferry, "copy", "-q"] + self.registryFlags() + ["oci:\(layout):1", "docker://\(self.main)/\(reference)"],
            environment: self.environment)
        self.remember("\(self.main)/\(reference)")
        let upstream = self.main.contains(":") ? self.main : self.main + ":80"
        let proxy = try await Service.start(
            "proxy", [self.tools.testkit, "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
                      "--fault", "throttle=\(self.scenario.throttleRate),path=/blobs/"], logs: self.logs)
        self.services.append(proxy)
        defer { self.stop(proxy) }

        // Chunks small enough that every connection gets several.
        let chunk = max(Int64(1 << 20), ((self.scenario.throttleBytes / Int64(2 * n)) >> 20) << 20)
        func ferry(_ connections: Int, _ directory: String) -> [String] {
            [self.tools.ferry, "copy", "--progress", "json"] + self.registryFlags(viaProxy: true)
                + ["--connections", "\(connections)", "--chunk-size", "\(chunk)", "docker://\(proxy.address)/\(reference)", "oci:\(directory)"]
        }
        let aria2 = self.scenario.compare.contains(.aria2) && self.scenario.creds == nil
        if self.scenario.compare.contains(.aria2) && !aria2 {
            self.log("throttled: aria2c left out: it cannot authenticate to the registry")
        }
        // The layer of the one-layer image: its biggest blob.
        let layer = sizes.max { $0.value < $1.value }?.key ?? ""
        var many: [RunSample] = [], one: [RunSample] = [], peer: [RunSample] = []
        var commands = ["", "", ""]
        for run in 1...self.scenario.runs {
            var directory = try self.scratch("throttled")
            let (sampleN, commandN) = try await self.execute([ferry(n, directory)], bytes: bytes)
            self.discard(directory)
            directory = try self.scratch("throttled")
            let (sample1, command1) = try await self.execute([ferry(1, directory)], bytes: bytes)
            self.discard(directory)
            many.append(sampleN)
            one.append(sample1)
            var line = "throttled \(run)/\(self.scenario.runs): ferry ×\(n) \(Self.describe(sampleN)) | ferry ×1 \(Self.describe(sample1))"
            if aria2 {
                directory = try self.scratch("throttled-aria2")
                let url = "http://\(proxy.address)/v2/\(self.namespace)/big/blobs/sha256:\(layer)"
                let (sample, command) = try await self.execute(
                    [[try self.tools.path(of: .aria2), "-q", "-x\(n)", "-s\(n)", "-k1M", "--allow-overwrite=true", "-d", directory, "-o", "blob", url]],
                    bytes: bytes)
                self.discard(directory)
                peer.append(sample)
                line += " | aria2c \(Self.describe(sample))"
                if run == 1 { commands[2] = command }
            }
            if run == 1 { commands[0] = commandN; commands[1] = command1 }
            self.log(line)
        }
        let median = many.mbPerSecond.median
        var peers = [PeerResult(name: "ferry --connections 1", command: commands[1], runs: one, ferryMedian: median)]
        if aria2 { peers.append(PeerResult(name: self.peerName(.aria2), command: commands[2], runs: peer, ferryMedian: median)) }
        return PhaseResult(phase: .throttled, bytes: bytes, command: commands[0], runs: many, peers: peers)
    }

    // MARK: running

    /// Runs one run's steps one after another (e.g. one copy per image): their wall and CPU times add up, the peak
    /// RSS is the largest. Returns the sample and the commands, for the report.
    private func execute(_ steps: [[String]], bytes: Int64, stdoutToNull: Bool = false) async throws -> (RunSample, String) {
        var wall = 0.0, user = 0.0, system = 0.0, peakRSS: Int64 = 0, retries = 0
        for argv in steps {
            let result = try await measured(argv, environment: self.environment, stdoutToNull: stdoutToNull)
            wall += result.wallSeconds
            user += result.usage.userSeconds
            system += result.usage.systemSeconds
            peakRSS = max(peakRSS, result.usage.peakRSSBytes)
            // Only Ferry reports retries (its `--progress json` summary).
            if argv[0] == self.tools.ferry { retries += Self.retries(inProgress: result.output.stderrString) }
        }
        let command = steps.map { argv in
            ([(argv[0] as NSString).lastPathComponent] + argv.dropFirst()).map { $0.replacingOccurrences(of: self.work, with: "$WORK") }.joined(separator: " ")
        }.joined(separator: "; ")
        let sample = RunSample(
            wallSeconds: wall, cpuUserSeconds: user, cpuSystemSeconds: system, peakRSSBytes: peakRSS, retries: retries, bytes: bytes)
        return (sample, command)
    }

    /// The `retries` of the `summary` event in Ferry's `--progress json` stream (docs/progress-json.md).
    static func retries(inProgress stderr: String) -> Int {
        for line in stderr.split(separator: "\n").reversed() where line.contains("\"summary\"") {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["event"] as? String == "summary"
            {
                return (object["retries"] as? NSNumber)?.intValue ?? 0
            }
        }
        return 0
    }
}
