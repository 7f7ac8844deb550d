import Foundation
import OCI

/// Finds images in a Juju bundle: `applications.*.resources` named like images (`oci-image`), and
/// `applications.*.options` that name images, including JSON strings of images such as katib's
/// `custom_images` and lists such as CKF's `jupyter-images`.
struct BundleWalker {
    let document: Int
    let file: String
    let root: YAMLValue

    private(set) var images: [DiscoveredImage] = []
    private(set) var doubts: [DiscoveryDoubt] = []

    init(document: Int, file: String, root: YAMLValue) {
        self.document = document
        self.file = file
        self.root = root
    }

    /// True for a document with `applications` (or the older `services`) whose entries name a `charm`.
    static func isBundle(_ document: YAMLValue) -> Bool {
        guard let applications = (document["applications"] ?? document["services"])?.entries else { return false }
        return applications.contains { $0.value["charm"] != nil }
    }

    mutating func run() {
        let section = self.root["applications"] != nil ? "applications" : "services"
        for application in self.root[section]?.entries ?? [] {
            let base = YAMLPath([.key(section), .key(application.key)])
            for resource in application.value["resources"]?.entries ?? [] {
                let path = base.appending("resources").appending(resource.key)
                self.value(resource.value, at: path, key: resource.key)
            }
            for option in application.value["options"]?.entries ?? [] {
                let path = base.appending("options").appending(option.key)
                self.value(option.value, at: path, key: option.key)
            }
        }
    }

    /// One resource or option. Revisions (numbers), booleans and empty strings are not images.
    private mutating func value(_ value: YAMLValue, at path: YAMLPath, key: String) {
        guard let scalar = value.scalar, scalar.kind == .string else { return }
        let text = scalar.text
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        let keyIsImage = ImageKeys.namesImage(key), keyIsImages = ImageKeys.namesImages(key)

        if let leaves = EmbeddedImages.jsonLeaves(in: text) {
            for leaf in leaves where !leaf.text.isEmpty {
                let leafKey = leaf.keys.last(where: { Int($0) == nil }) ?? key
                let shown = path.description + leaf.keys.map { Int($0) != nil ? "[\($0)]" : ".\($0)" }.joined()
                if keyIsImage || keyIsImages || ImageKeys.namesImage(leafKey) {
                    self.embedded(leaf.text, in: scalar, at: path, shown: shown)
                } else if ImageKeys.looksLikeRegistryImage(leaf.text) {
                    self.doubt(leaf.text, scalar, shown, "looks like an image, but neither \(key) nor \(leafKey) names one; not reported")
                }
            }
            return
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            if keyIsImage || keyIsImages {
                self.doubt(trimmed, scalar, path.description, "\(key) looks like JSON but does not parse; its images cannot be read")
            }
            return
        }
        if keyIsImage {
            do {
                let reference = try Reference(parsing: trimmed)
                self.add(reference, scalar, path.description, form: .whole(path))
            } catch {
                self.doubt(trimmed, scalar, path.description, ImageWalker.notAReference(trimmed, key: key, error))
            }
        } else if keyIsImages {
            for item in EmbeddedImages.listItems(in: text) {
                self.embedded(item, in: scalar, at: path, shown: path.description)
            }
        } else if ImageKeys.looksLikeRegistryImage(trimmed) {
            self.doubt(trimmed, scalar, path.description, "looks like an image, but \(key) does not name one; not reported")
        }
    }

    private mutating func embedded(_ text: String, in scalar: YAMLScalar, at path: YAMLPath, shown: String) {
        do {
            let reference = try Reference(parsing: text)
            self.add(reference, scalar, shown, form: .embedded(path, original: text))
        } catch {
            self.doubt(text, scalar, shown, "an image was expected here, but \(error.message)")
        }
    }

    private mutating func add(_ reference: Reference, _ scalar: YAMLScalar, _ shown: String, form: ImageForm) {
        self.images.append(DiscoveredImage(reference: reference, file: scalar.position?.file ?? self.file, path: shown,
                                           line: scalar.position?.line, tagInferred: false, note: nil,
                                           form: form, document: self.document))
    }

    private mutating func doubt(_ value: String, _ scalar: YAMLScalar, _ shown: String, _ reason: String) {
        self.doubts.append(DiscoveryDoubt(file: scalar.position?.file ?? self.file, path: shown,
                                          line: scalar.position?.line, value: value, reason: reason))
    }
}
