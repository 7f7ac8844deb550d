import Foundation
import Spawn
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What crashed Foundation's Process: many short children from concurrent tasks while the test process holds
/// hundreds of descriptors (its child-side cleanup walked /proc/self/fd and over-read a dirent).
@Suite struct StressTests {
    @Test func twoHundredChildrenFromEightTasksWithManyOpenDescriptors() async throws {
        // Deliberately without O_CLOEXEC: the children must still not inherit them (closefrom).
        let held = (0..<300).map { _ in open("/dev/null", O_RDONLY) }
        defer { for fd in held where fd >= 0 { close(fd) } }
        #expect(held.allSatisfy { $0 >= 0 })

        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures: [String] = []
                    for index in 0..<25 {
                        let word = "t\(task)-\(index)"
                        let result = try await Command(["/bin/echo", word]).run()
                        if result.status != .exited(0) || result.stdoutString != word + "\n" || !result.stderr.isEmpty {
                            failures.append("\(word): \(result.status) \(result.stdoutString) \(result.stderrString)")
                        }
                    }
                    return failures
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func childInheritsOnlyItsStandardStreams() async throws {
        let held = (0..<50).map { _ in open("/dev/null", O_RDONLY) }
        defer { for fd in held where fd >= 0 { close(fd) } }
        // ls opens the directory it lists (one more descriptor, 3); the rest would be leaks.
        let listing = try await Command(["ls", "/proc/self/fd"]).run().stdoutString
        let descriptors = listing.split(separator: "\n").compactMap { Int($0) }
        #expect(descriptors.allSatisfy { $0 <= 3 }, "\(descriptors)")
    }

    @Test func blockingRunsFromManyThreadsAtOnce() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let script = "echo \(index); echo \(index) >&2; exit \(index % 3)"
                    let result = try Command(["sh", "-c", script]).runBlocking()
                    #expect(result.status == .exited(Int32(index % 3)))
                    #expect(result.stdoutString == "\(index)\n" && result.stderrString == "\(index)\n")
                }
            }
            try await group.waitForAll()
        }
    }
}
