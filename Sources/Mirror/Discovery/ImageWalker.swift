import Foundation
import OCI

/// Finds images in one YAML document by the keys that name them (see `ImageKeys`), for Helm values and
/// Kubernetes objects alike: `image:` strings, `image: {registry, repository, tag, digest}` maps with a
/// global registry applied, `{name, tag}` maps, `fooRepository` + `fooTag` pairs, and `*_IMAGE` env vars.
struct ImageWalker {
    enum Mode: Sendable { case values, manifest }

    let mode: Mode
    let document: Int
    /// Shown when a value has no position (values merged in code).
    let file: String
    /// The whole document, to look up global registries.
    let root: YAMLValue
    /// Chart scopes by the path of their subtree; `.root` is the umbrella chart or the values file itself.
    let scopes: [YAMLPath: ChartScope]

    private(set) var images: [DiscoveredImage] = []
    private(set) var doubts: [DiscoveryDoubt] = []

    init(mode: Mode, document: Int, file: String, root: YAMLValue, scopes: [YAMLPath: ChartScope] = [:]) {
        self.mode = mode
        self.document = document
        self.file = file
        self.root = root
        self.scopes = scopes
    }

    /// Walks the document from its root.
    mutating func run() {
        switch self.mode {
        case .values:
            // A document that is just a list (`- nginx:1.27`) is a list of images.
            self.walk(self.root, at: .root, key: self.root.items != nil ? "images" : nil)
        case .manifest:
            self.walkObject(self.root, at: .root)
        }
    }

    /// A Kubernetes object, or a `List` of them (`kubectl get -o yaml`). `metadata` is skipped (annotations
    /// such as `last-applied-configuration` repeat the spec as JSON) and so is `status` (what runs now).
    private mutating func walkObject(_ object: YAMLValue, at path: YAMLPath) {
        if let items = object["items"]?.items, object["kind"]?.stringText?.hasSuffix("List") == true {
            for (index, item) in items.enumerated() {
                self.walkObject(item, at: path.appending("items").appending(index: index))
            }
            return
        }
        guard let entries = object.entries else { return }
        self.walkMapping(entries, at: path, key: nil, skipping: ["metadata", "status"])
    }

    private mutating func walk(_ value: YAMLValue, at path: YAMLPath, key: String?) {
        switch value {
        case .mapping(let entries):
            let skipping: Set<String> = path != .root && self.scopes[path] != nil ? ["global"] : []
            self.walkMapping(entries, at: path, key: key, skipping: skipping)
        case .sequence(let items):
            let listOfImages = key.map { ImageKeys.namesImages($0) || ImageKeys.namesImage($0) } ?? false
            for (index, item) in items.enumerated() {
                let itemPath = path.appending(index: index)
                if item.scalar != nil {
                    if listOfImages {
                        self.imageScalar(item, at: itemPath, key: key ?? "")
                    } else {
                        self.otherScalar(item, at: itemPath, key: key ?? "")
                    }
                } else if listOfImages, item["name"] != nil, item["tag"] != nil || item["digest"] != nil,
                    let entries = item.entries, !entries.contains(where: { ImageKeys.namesImage($0.key) || $0.key.hasPrefix("new") })
                {
                    // `images: [{name: foo/bar, tag: v1}]`: an image in parts, read as under an image key. Not
                    // `{name: web, image: …}` (a name for an image given beside it) nor kustomize's
                    // `{name, newName, newTag}` (whose `name` is the image replaced).
                    self.walk(item, at: itemPath, key: "image")
                } else {
                    self.walk(item, at: itemPath, key: nil)
                }
            }
        case .scalar:
            break
        }
    }

    private mutating func walkMapping(_ entries: [YAMLEntry], at path: YAMLPath, key: String?, skipping: Set<String>) {
        let map = YAMLValue.mapping(entries)
        // The value of an image key: a whole image in parts.
        if let key, ImageKeys.namesImage(key) {
            if let nameKey = ["repository", "name"].first(where: { map[$0] != nil }) {
                if let name = map[nameKey]?.text, !name.isEmpty {
                    self.parts(map, at: path, prefix: "", repositoryKey: nameKey)
                }
                return  // null or empty: the image is switched off or filled in elsewhere
            }
            // A Kubernetes image volume: `image: {reference: quay.io/…, pullPolicy}`.
            if let reference = map["reference"], reference.scalar != nil {
                self.imageScalar(reference, at: path.appending("reference"), key: key)
                return
            }
            // No name: settings shared by images, such as `global.image: {registry, pullPolicy}`.
        }

        var consumed: Set<String> = []
        for entry in entries {
            if entry.key == "repository", map["tag"] != nil || map["digest"] != nil {
                consumed.formUnion(["repository", "tag", "digest", "registry"])
                if let name = entry.value.text, !name.isEmpty {
                    self.parts(map, at: path, prefix: "", repositoryKey: "repository")
                }
            } else if let prefix = ImageKeys.repositoryPrefix(of: entry.key),
                map[prefix + "Tag"] != nil || map[prefix + "Digest"] != nil
            {
                consumed.formUnion([entry.key, prefix + "Tag", prefix + "Digest", prefix + "Registry"])
                if let name = entry.value.text, !name.isEmpty {
                    self.parts(map, at: path, prefix: prefix, repositoryKey: entry.key)
                }
            }
        }
        // `env: [{name: SIDECAR_IMAGE, value: quay.io/…}]`
        if let name = map["name"]?.stringText, ImageKeys.envNamesImage(name), let value = map["value"], value.scalar != nil {
            consumed.insert("value")
            self.imageScalar(value, at: path.appending("value"), key: name)
        }

        for entry in entries where !consumed.contains(entry.key) && !skipping.contains(entry.key) {
            let childPath = path.appending(entry.key)
            if entry.value.scalar != nil {
                if ImageKeys.namesImage(entry.key) {
                    self.imageScalar(entry.value, at: childPath, key: entry.key)
                } else {
                    self.otherScalar(entry.value, at: childPath, key: entry.key)
                }
            } else {
                self.walk(entry.value, at: childPath, key: entry.key)
            }
        }
    }

    /// A scalar under a key that names an image: an image, or (when it is not a reference) a doubt.
    /// Empty values, null, booleans and numbers are switches or placeholders, not images.
    private mutating func imageScalar(_ value: YAMLValue, at path: YAMLPath, key: String) {
        guard let scalar = value.scalar, scalar.kind == .string else { return }
        let text = scalar.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return }
        do {
            let reference = try Reference(parsing: text)
            self.add(reference, anchor: scalar, at: path, inferred: false, form: .whole(path))
        } catch {
            self.doubt(text, scalar: scalar, at: path, Self.notAReference(text, key: key, error))
        }
    }

    /// A scalar under any other key: never an image, but a doubt when it looks like a registry image.
    private mutating func otherScalar(_ value: YAMLValue, at path: YAMLPath, key: String) {
        guard let scalar = value.scalar, scalar.kind == .string, ImageKeys.looksLikeRegistryImage(scalar.text) else { return }
        let name = key.isEmpty ? "this list" : "key \(key)"
        self.doubt(scalar.text, scalar: scalar, at: path,
                   "looks like an image, but \(name) does not name one; not reported (rename the key, or list the image in a plain list)")
    }

    /// An image spread over keys of `map`: `[prefix]Registry`, the repository key, `[prefix]Tag`, `[prefix]Digest`.
    private mutating func parts(_ map: YAMLValue, at path: YAMLPath, prefix: String, repositoryKey: String) {
        func key(_ name: String) -> String { prefix.isEmpty ? name.lowercased() : prefix + name }
        let registryKey = key("Registry"), tagKey = key("Tag"), digestKey = key("Digest")
        guard let repositoryValue = map[repositoryKey], let repositoryScalar = repositoryValue.scalar,
            let repository = repositoryValue.text?.trimmingCharacters(in: .whitespaces)
        else { return }
        let anchorPath = prefix.isEmpty ? path : path.appending(repositoryKey)
        let repositoryPath = path.appending(repositoryKey)

        var name = repository
        var global: GlobalRegistry?
        if let own = map[registryKey]?.text, !own.isEmpty {
            name = Self.join(own, repository)
        } else if repositoryKey == "repository", let shared = self.globalRegistry(for: path) {
            name = Self.join(shared.value, repository)
            global = shared
        }

        var tag: String?
        if let tagValue = map[tagKey], let tagScalar = tagValue.scalar, let text = tagValue.text, !text.isEmpty {
            tag = text
            if tagScalar.kind == .float || tagScalar.kind == .int, let rendered = Self.helmRendering(ofNumber: text), rendered != text {
                self.doubt(text, scalar: tagScalar, at: path.appending(tagKey),
                           "Helm reads the unquoted tag \(text) as the number \(rendered); quote it: \(tagKey): \"\(text)\"")
            }
        }
        let digest = map[digestKey]?.text.flatMap { $0.isEmpty ? nil : $0 }
        var inferred = false
        let nameHasTag = name.contains("@") || name.split(separator: "/").last?.contains(":") == true
        if tag == nil, digest == nil, !nameHasTag {
            if let appVersion = self.scope(for: path)?.appVersion, !appVersion.isEmpty {
                tag = appVersion
                inferred = true
            } else {
                self.doubt(repository, scalar: repositoryScalar, at: repositoryPath,
                           "no tag, and no Chart.yaml appVersion to take one from; reported as :latest")
            }
        }
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        do {
            let reference = try Reference(parsing: text)
            let parts = ImageParts(map: path, registryKey: map[registryKey] != nil ? registryKey : nil,
                                   repositoryKey: repositoryKey, tagKey: map[tagKey] != nil ? tagKey : nil,
                                   newTagKey: tagKey, digestKey: map[digestKey] != nil ? digestKey : nil,
                                   newDigestKey: digestKey, global: global)
            self.add(reference, anchor: repositoryScalar, at: anchorPath, inferred: inferred, form: .parts(parts))
        } catch {
            self.doubt(text, scalar: repositoryScalar, at: anchorPath, "these keys name an image, but \(error.message)")
        }
    }

    /// Why a value under an image key is not an image, in the user's terms.
    static func notAReference(_ text: String, key: String, _ error: OCIError) -> String {
        if text.contains("{{") {
            return "a template expression under \(key), not a reference: Ferry cannot tell what it becomes; "
                + "render the chart (helm template) and read the manifests"
        }
        return "\(key) is for an image, but this is not a reference (\(error.message))"
    }

    /// `registry` + `/` + `repository`, for registries written with or without a trailing slash.
    static func join(_ registry: String, _ repository: String) -> String {
        var host = Substring(registry)
        while host.hasSuffix("/") { host = host.dropLast() }
        return "\(host)/\(repository)"
    }

    /// How a chart's template prints an unquoted number: Helm reads every YAML number as a float64 and Go prints it
    /// with `%v` (strconv 'g', shortest digits), so `1.10` is `1.1` and `20240101` is `2.0240101e+07` (an exponent
    /// from 6 digits on: helm/helm#1707).
    static func helmRendering(ofNumber text: String) -> String? {
        guard let number = Double(text.replacingOccurrences(of: "_", with: "")), number.isFinite else { return nil }
        guard number != 0 else { return "0" }
        // Swift's description has the shortest digits that read back as the same number, like Go's.
        let shown = "\(abs(number))".lowercased()
        let parts = shown.split(separator: "e")
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(mantissa[0]), fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
        var digits = Substring(whole + fraction)
        // The value is 0.DIGITS × 10^point.
        var point = whole.count + (parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
        while digits.first == "0" { digits = digits.dropFirst(); point -= 1 }
        while digits.last == "0" { digits = digits.dropLast() }
        let sign = number < 0 ? "-" : ""
        let exponent = point - 1
        if exponent < -4 || exponent >= 6 {
            let rest = digits.dropFirst()
            let magnitude = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
            return sign + String(digits.prefix(1)) + (rest.isEmpty ? "" : "." + rest) + "e" + (exponent < 0 ? "-" : "+") + magnitude
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }

    /// The innermost chart scope holding `path`.
    private func scope(for path: YAMLPath) -> ChartScope? {
        var candidate = path
        while true {
            if let scope = self.scopes[candidate] { return scope }
            if candidate.components.isEmpty { return nil }
            candidate = candidate.parent
        }
    }

    /// The global registry in effect for `path`: `global.imageRegistry` (Bitnami) or `global.image.registry`,
    /// from the innermost chart scope's merged `global`. Its path is the umbrella's, where an overlay sets it.
    private func globalRegistry(for path: YAMLPath) -> GlobalRegistry? {
        guard self.mode == .values else { return nil }
        var scopePath = path
        while self.scopes[scopePath] == nil, !scopePath.components.isEmpty { scopePath = scopePath.parent }
        guard let global = self.root.value(at: scopePath)?["global"] else { return nil }
        if let value = global["imageRegistry"]?.stringText, !value.isEmpty {
            return GlobalRegistry(path: YAMLPath([.key("global"), .key("imageRegistry")]), value: value)
        }
        if let value = global["image"]?["registry"]?.stringText, !value.isEmpty {
            return GlobalRegistry(path: YAMLPath([.key("global"), .key("image"), .key("registry")]), value: value)
        }
        return nil
    }

    /// The path as written in the file the value came from: a subchart's own `values.yaml` does not
    /// start with the subchart's name.
    private func displayPath(_ path: YAMLPath, file: String) -> YAMLPath {
        var best: YAMLPath?
        for (scopePath, scope) in self.scopes where scope.valuesFile == file && path.hasPrefix(scopePath) {
            if best == nil || scopePath.components.count > best!.components.count { best = scopePath }
        }
        return best.map { path.dropping($0) } ?? path
    }

    private mutating func add(_ reference: Reference, anchor: YAMLScalar, at path: YAMLPath, inferred: Bool, form: ImageForm) {
        let file = anchor.position?.file ?? self.file
        self.images.append(DiscoveredImage(reference: reference, file: file, path: self.displayPath(path, file: file).description,
                                           line: anchor.position?.line, tagInferred: inferred, note: nil,
                                           form: form, document: self.document))
    }

    private mutating func doubt(_ value: String, scalar: YAMLScalar, at path: YAMLPath, _ reason: String) {
        let file = scalar.position?.file ?? self.file
        self.doubts.append(DiscoveryDoubt(file: file, path: self.displayPath(path, file: file).description,
                                          line: scalar.position?.line, value: value, reason: reason))
    }
}
