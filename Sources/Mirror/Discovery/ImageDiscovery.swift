/// `ferry images`: every image reference in values files, charts, manifests, Juju bundles and plain lists.
public struct ImageDiscovery: Sendable {
    public init() {}

    /// Reads every path (files, chart directories and archives, directories of those) and reports what it found.
    public func discover(_ paths: [String]) throws(MirrorError) -> DiscoveryReport {
        var report = DiscoveryReport(images: [], doubts: [])
        for path in paths {
            for unit in try SourceLoader.load(path) {
                let found = unit.discover()
                report.images += found.images
                report.doubts += found.doubts
            }
        }
        return report
    }
}
