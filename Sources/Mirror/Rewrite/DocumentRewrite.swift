import OCI

/// Kubernetes manifests and Juju bundles written again with every image at its target: JSON strings of
/// images too, and in place (comments kept) whenever the scalars can be located exactly.
enum DocumentRewrite {
    static func rewrite(_ file: YAMLFile, images: [DiscoveredImage], targets: [Reference: Reference])
        throws(MirrorError) -> (text: String, warnings: [String])
    {
        var edits: [ScalarEdit] = []
        var insertions: [(document: Int, path: YAMLPath, value: String)] = []
        func edit(_ document: Int, _ path: YAMLPath, old: String?, new: String) {
            guard let scalar = file.documents[document].value(at: path)?.scalar else { return }
            let old = old ?? scalar.text
            if let index = edits.firstIndex(where: { $0.document == document && $0.path == path }) {
                edits[index].replacements.append((old, new))
            } else {
                edits.append(ScalarEdit(document: document, path: path, scalar: scalar, replacements: [(old, new)]))
            }
        }

        for image in images {
            guard let target = targets[image.reference] else { continue }
            let document = file.documents[image.document]
            switch image.form {
            case .whole(let path):
                edit(image.document, path, old: nil, new: target.description)
            case .embedded(let path, let original):
                edit(image.document, path, old: original, new: target.description)
            case .parts(let parts):
                for (key, value) in PartsAssignment.assignments(parts, target: target, viaGlobal: false) {
                    let path = parts.map.appending(key)
                    if document.value(at: path)?.scalar != nil {
                        edit(image.document, path, old: nil, new: value)
                    } else {
                        insertions.append((image.document, path, value))
                    }
                }
            case .line, .template:
                break
            }
        }

        let expected = Self.expectation(images, targets: targets)
        if insertions.isEmpty, let text = TextEdits.apply(edits, to: file.text), Self.check(text, file: file.file, expected: expected) {
            return (text, [])
        }
        // Keys to add, or a scalar that could not be found in the text: change the tree and write it with
        // Yams, which keeps key order but not comments.
        var documents = file.documents
        for edit in edits {
            documents[edit.document].set(.scalar(YAMLScalar(edit.newValue, kind: .string, style: edit.scalar.style)), at: edit.path)
        }
        for insertion in insertions {
            documents[insertion.document].set(.string(insertion.value), at: insertion.path)
        }
        let text = try YAMLEmitter.text(documents)
        guard Self.check(text, file: file.file, expected: expected) else {
            throw MirrorError(.failed, "\(file.file): the rewritten file does not name the expected images; "
                + "this is a bug in Ferry, please report it")
        }
        return (text, ["\(file.file): written with the YAML library, which does not keep comments or quoting"])
    }

    /// What discovery must find in the rewritten text: every place, each with its target.
    private static func expectation(_ images: [DiscoveredImage], targets: [Reference: Reference]) -> [String] {
        images.map { "\($0.document) \($0.path) \(targets[$0.reference] ?? $0.reference)" }.sorted()
    }

    /// Reads the rewritten text back and compares what it names with what it should name.
    private static func check(_ text: String, file: String, expected: [String]) -> Bool {
        guard let parsed = try? YAMLFile(file: file, text: text) else { return false }
        let found = SourceUnit.documents(parsed).discover().images
        return found.map { "\($0.document) \($0.path) \($0.reference)" }.sorted() == expected
    }
}
