import OCI

/// A Helm values overlay that moves every image to its target, written with the keys the source used
/// (the AKKO guide's `values-airgapped.yaml`, made for you).
///
/// Helm merges mappings key by key but replaces lists whole, so an image inside a list (a JupyterHub
/// `profileList` entry) is written by copying the whole list with the image changed.
enum ValuesOverlay {
    static func documents(for source: ValuesSource, images: [DiscoveredImage], targets: [Reference: Reference])
        throws(MirrorError) -> [YAMLValue]
    {
        var overlays: [YAMLValue] = []
        for (index, document) in source.documents.enumerated() {
            let found = images.filter { $0.document == index }
            let sets = try Self.assignments(document: document, images: found, targets: targets)
            guard !sets.isEmpty else { continue }
            overlays.append(Self.project(document, at: .root, sets: Self.wholeLists(sets, in: document)) ?? .mapping([]))
        }
        return overlays
    }

    /// Every value to set, in the order found.
    private static func assignments(document: YAMLValue, images: [DiscoveredImage], targets: [Reference: Reference])
        throws(MirrorError) -> [(YAMLPath, YAMLValue)]
    {
        var sets: [(YAMLPath, YAMLValue)] = []
        func set(_ path: YAMLPath, _ text: String, quoted: Bool = false) {
            sets.removeAll { $0.0 == path }
            sets.append((path, .string(text, style: quoted ? .doubleQuoted : .plain)))
        }

        // The global registry is set when any image took its host from it; every `repository` image that
        // has no registry of its own then gets the host from there, so only its path is written.
        let globals = Set(images.compactMap { image -> GlobalRegistry? in
            if case .parts(let parts) = image.form { return parts.global }
            return nil
        })
        if !globals.isEmpty {
            let hosts = Set(images.compactMap { image -> String? in
                guard case .parts(let parts) = image.form, parts.global != nil else { return nil }
                return targets[image.reference]?.registry
            })
            guard hosts.count == 1, let host = hosts.first else {
                let keys = globals.map(\.path.description).sorted().joined(separator: ", ")
                throw MirrorError(.failed, "the values take the registry from \(keys), but the targets are in several "
                    + "registries (\(hosts.sorted().joined(separator: ", "))); load them into one registry")
            }
            for global in globals.sorted(by: { $0.path < $1.path }) {
                set(global.path, global.value.hasSuffix("/") ? "\(host)/" : host)
            }
        }

        var embedded: [YAMLPath: [(old: String, new: String)]] = [:]
        var embeddedOrder: [YAMLPath] = []
        for image in images {
            guard let target = targets[image.reference] else { continue }
            switch image.form {
            case .whole(let path):
                set(path, target.description)
            case .parts(let parts):
                let ownRegistry = parts.registryKey.flatMap { document.value(at: parts.map.appending($0))?.text } ?? ""
                let viaGlobal = !globals.isEmpty && parts.takesGlobalRegistry && ownRegistry.isEmpty
                for (key, value) in PartsAssignment.assignments(parts, target: target, viaGlobal: viaGlobal) {
                    let isTag = key == (parts.tagKey ?? parts.newTagKey)
                    set(parts.map.appending(key), value, quoted: isTag)
                }
            case .embedded(let path, let original):
                if embedded[path] == nil { embeddedOrder.append(path) }
                embedded[path, default: []].append((original, target.description))
            case .line, .template:
                break
            }
        }
        for path in embeddedOrder {
            guard let scalar = document.value(at: path)?.scalar else { continue }
            let replaced = EmbeddedImages.replacing(embedded[path] ?? [], in: scalar.text).text
            sets.append((path, .scalar(YAMLScalar(replaced, kind: .string, style: scalar.style))))
        }
        return sets
    }

    /// Replaces sets that reach into a list by one set of the whole (outermost) list, with those changes made.
    private static func wholeLists(_ sets: [(YAMLPath, YAMLValue)], in document: YAMLValue) -> [(YAMLPath, YAMLValue)] {
        var result: [(YAMLPath, YAMLValue)] = []
        var lists: [YAMLPath: YAMLValue] = [:]
        var order: [YAMLPath] = []
        for (path, value) in sets {
            guard let index = path.components.firstIndex(where: { if case .index = $0 { true } else { false } }) else {
                result.append((path, value))
                continue
            }
            let listPath = YAMLPath(Array(path.components[..<index]))
            if lists[listPath] == nil {
                lists[listPath] = document.value(at: listPath) ?? .sequence([])
                order.append(listPath)
            }
            lists[listPath]!.set(value, at: path.dropping(listPath))
        }
        for path in order { result.append((path, lists[path]!)) }
        return result
    }

    /// The parts of `source` that `sets` touch, in the source's key order; keys the source lacks come last.
    private static func project(_ source: YAMLValue?, at path: YAMLPath, sets: [(YAMLPath, YAMLValue)]) -> YAMLValue? {
        if let exact = sets.last(where: { $0.0 == path }) { return exact.1 }
        let below = sets.filter { $0.0.components.count > path.components.count && $0.0.hasPrefix(path) }
        guard !below.isEmpty else { return nil }
        var entries: [YAMLEntry] = []
        var done: Set<String> = []
        for entry in source?.entries ?? [] where !done.contains(entry.key) {
            if let value = Self.project(entry.value, at: path.appending(entry.key), sets: below) {
                entries.append(YAMLEntry(key: entry.key, value: value))
                done.insert(entry.key)
            }
        }
        for (setPath, _) in below {
            guard case .key(let key) = setPath.components[path.components.count], !done.contains(key) else { continue }
            if let value = Self.project(nil, at: path.appending(key), sets: below) {
                entries.append(YAMLEntry(key: key, value: value))
                done.insert(key)
            }
        }
        return .mapping(entries)
    }
}
