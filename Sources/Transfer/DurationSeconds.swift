extension Duration {
    /// The duration in seconds, for rates and timeouts kept as `Double`.
    package var inSeconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
