import Foundation

extension ChildProcess {
    /// Waits for the `listening HOST:PORT` line every `ferry-testkit` server prints once it accepts connections, and
    /// returns `HOST:PORT`. Stops the child and throws, with its output, if it exits or stays silent past `timeout`.
    func awaitListening(_ name: String, timeout: Duration = RegistryLauncher.startupTimeout) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = self.stdout().split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                return String(line.dropFirst("listening ".count)).trimmingCharacters(in: .whitespaces)
            }
            guard self.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        self.stop()
        throw TestSupportError("ferry-testkit \(name) did not report `listening HOST:PORT`; its output:\n" + self.stdout() + self.stderr())
    }
}
