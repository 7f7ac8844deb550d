/// Sees the data of regular members as a sequential pass reads them (hashing, compressing, spooling a layer
/// while the archive streams by, instead of reading it again).
public protocol TarMemberVisitor: AnyObject {
    /// A regular member starts (its `dataOffset` identifies it in the archive); false skips its bytes.
    func begin(_ entry: TarReader.Entry) throws -> Bool
    /// The next bytes of the member `begin` accepted.
    func data(_ bytes: UnsafeRawBufferPointer) throws
    /// The member `begin` accepted ended, all its bytes seen.
    func end() throws
}
