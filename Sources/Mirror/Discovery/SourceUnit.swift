/// What one path turned out to be, read and ready to search or rewrite.
enum SourceUnit: Sendable {
    /// Helm values, from a values file or a whole chart: `rewrite` writes an overlay.
    case values(ValuesSource)
    /// Kubernetes manifests or a Juju bundle: `rewrite` writes the file again.
    case documents(YAMLFile)
    /// A plain list of images: `rewrite` writes the list of targets.
    case list(file: String, text: String)

    /// The path as the user gave it (or the file found under a directory they gave).
    var shown: String {
        switch self {
        case .values(let source): source.shown
        case .documents(let file): file.file
        case .list(let file, _): file
        }
    }
}

/// Helm values to search: a values file's documents, or a chart's merged values (one document).
struct ValuesSource: Sendable {
    var shown: String
    var documents: [YAMLValue]
    /// Chart scopes by the path of their values; a plain values file has one, at the root.
    var scopes: [YAMLPath: ChartScope]
    /// Images written literally in chart templates.
    var templateImages: [DiscoveredImage]
    var isChart: Bool
}

extension SourceUnit {
    /// Every image and doubt in this unit.
    func discover() -> (images: [DiscoveredImage], doubts: [DiscoveryDoubt]) {
        var images: [DiscoveredImage] = []
        var doubts: [DiscoveryDoubt] = []
        switch self {
        case .values(let source):
            for (index, document) in source.documents.enumerated() {
                var walker = ImageWalker(mode: .values, document: index, file: source.shown, root: document, scopes: source.scopes)
                walker.run()
                images += walker.images
                doubts += walker.doubts
            }
            images += source.templateImages
        case .documents(let file):
            for (index, document) in file.documents.enumerated() {
                if BundleWalker.isBundle(document) {
                    var walker = BundleWalker(document: index, file: file.file, root: document)
                    walker.run()
                    images += walker.images
                    doubts += walker.doubts
                } else {
                    let mode: ImageWalker.Mode = SourceLoader.isKubernetesObject(document) ? .manifest : .values
                    let scopes = [YAMLPath.root: ChartScope(name: "", appVersion: nil, valuesFile: file.file)]
                    var walker = ImageWalker(mode: mode, document: index, file: file.file, root: document, scopes: scopes)
                    walker.run()
                    images += walker.images
                    doubts += walker.doubts
                }
            }
        case .list(let file, let text):
            (images, doubts) = PlainList.discover(text, file: file)
        }
        return (images, doubts)
    }
}
