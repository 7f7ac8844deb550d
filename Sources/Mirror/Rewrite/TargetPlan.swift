import OCI

/// Where each found image goes: named by `TargetNaming` (collisions refused), or as a `--map` from
/// `ferry load` says, pinned to the digest that was pushed.
enum TargetPlan {
    static func targets(for references: [Reference], naming: TargetNaming?, map: [ImageMapEntry]?) throws(MirrorError)
        -> [Reference: Reference]
    {
        guard let map else {
            guard let naming else {
                throw MirrorError(.usage, "say where the images are: --to REGISTRY[/NAMESPACE], or --map FILE from ferry load")
            }
            return try naming.targets(for: references)
        }
        var targets: [Reference: Reference] = [:]
        var missing: [Reference] = []
        for reference in references {
            if let entry = ImageMap.entry(for: reference, in: map) {
                targets[reference] = entry.pinned
            } else {
                missing.append(reference)
            }
        }
        guard missing.isEmpty else {
            let list = missing.map { "  \($0)" }.sorted().joined(separator: "\n")
            throw MirrorError(.failed, "\(missing.count) image\(missing.count == 1 ? " is" : "s are") not in the map, so "
                + "\(missing.count == 1 ? "it was" : "they were") not loaded and the deployment could not pull "
                + "\(missing.count == 1 ? "it" : "them"):\n\(list)\nsave and load \(missing.count == 1 ? "it" : "them") too, "
                + "or rewrite with --to instead of --map")
        }
        return targets
    }
}
