import OCI

extension ImageIndex {
    /// The child for `wanted`, or an error listing the platforms there are (`source` names the image in it).
    func child(for wanted: Platform, of source: some CustomStringConvertible) throws(MirrorError) -> Descriptor {
        guard let child = self.select(wanted) else {
            let have = self.platforms.map(\.description).joined(separator: ", ")
            throw MirrorError(.failed, "\(source) has no image for \(wanted) (it has: \(have.isEmpty ? "none" : have)); pick one of those with --platform, or use --platform all")
        }
        return child
    }
}
