import Codec
import Foundation
import Spawn

/// Small deterministic inputs and a runner for the system tools the tests check interoperability with.
enum TestData {
    /// Log-like text: compresses about 4× with gzip, like the layers Ferry moves.
    static func logText(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = SplitMix(seed: seed)
        let levels = ["INFO ", "DEBUG", "WARN ", "ERROR"]
        let paths = ["users", "orders", "blobs", "manifests", "tags"]
        var out: [UInt8] = []
        out.reserveCapacity(count + 200)
        var second = 0
        while out.count < count {
            second += Int(random.next() % 3)
            let line =
                "2024-05-14T12:\(second / 60 % 60):\(second % 60)Z \(levels[Int(random.next() % 4)]) "
                + "GET /api/v1/\(paths[Int(random.next() % 5)])/\(random.next() % 100_000) "
                + "\(200 + random.next() % 5) req=\(String(random.next(), radix: 16))\n"
            out.append(contentsOf: line.utf8)
        }
        return Array(out.prefix(count))
    }

    /// Random bytes: incompressible.
    static func random(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var random = SplitMix(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = random.next()
            for _ in 0..<8 where index < count {
                out[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return out
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hexDigest(bytes) }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { self.state = seed }
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

/// Runs a system tool with `input` on stdin (through a file) and returns its stdout, status and stderr.
struct Tool {
    var status: Int32
    var output: [UInt8]
    var error: String

    static func run(_ tool: String, _ arguments: [String], input: [UInt8]) throws -> Tool {
        // Spawn, not Foundation's Process, whose Linux run() can crash (corelibs-foundation #5472).
        let r = try Command([tool] + arguments, standardInput: .bytes(input)).runBlocking()
        return Tool(status: r.status.codeOrSignal, output: r.stdout, error: r.stderrString)
    }

    /// Runs `tool` and expects success; returns stdout.
    static func output(_ tool: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let result = try run(tool, arguments, input: input)
        guard result.status == 0 else {
            throw ToolFailed(description: "\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.error)")
        }
        return result.output
    }

    struct ToolFailed: Error, CustomStringConvertible { var description: String }
}
