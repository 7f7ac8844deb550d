/// A change to one scalar of a YAML file: whole references or references inside it replaced by others.
struct ScalarEdit: Sendable {
    var document: Int
    var path: YAMLPath
    /// The scalar as parsed: its position, style and value.
    var scalar: YAMLScalar
    /// References to replace (each occurrence that is not part of a longer name).
    var replacements: [(old: String, new: String)]

    /// The scalar's value after the edit.
    var newValue: String {
        EmbeddedImages.replacing(self.replacements, in: self.scalar.text).text
    }
}
