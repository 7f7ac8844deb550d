import Foundation
import OCI
import TestSupport
import Testing
@testable import Registry

@Suite struct UploadJournalTests {
    let digest = try! Digest("sha256:" + String(repeating: "ab", count: 32))

    @Test("an entry is found again only for the same registry, repository, blob and size, and is gone once removed")
    func roundTrip() throws {
        let dir = try TemporaryDirectory()
        let journal = UploadJournal(directory: dir.appending("uploads").path)
        let session = UploadSession(location: "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/u?_state=abc", offset: 8 << 20)
        try journal.record(registry: "127.0.0.1:5000", repository: "ns/app", digest: self.digest, size: 40 << 20, session: session)
        let entry = try #require(journal.entry(registry: "127.0.0.1:5000", repository: "ns/app", digest: self.digest, size: 40 << 20))
        #expect(entry.location == session.location)
        #expect(entry.offset == 8 << 20)
        #expect(journal.entry(registry: "127.0.0.1:5000", repository: "ns/other", digest: self.digest, size: 40 << 20) == nil)
        #expect(journal.entry(registry: "127.0.0.1:5000", repository: "ns/app", digest: self.digest, size: 41 << 20) == nil)
        journal.remove(registry: "127.0.0.1:5000", repository: "ns/app", digest: self.digest)
        #expect(journal.entry(registry: "127.0.0.1:5000", repository: "ns/app", digest: self.digest, size: 40 << 20) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: journal.directory).isEmpty)
    }

    @Test("credentials never reach the journal: user:pass in an upload URL is dropped")
    func noCredentials() throws {
        let dir = try TemporaryDirectory()
        let journal = UploadJournal(directory: dir.path)
        let session = UploadSession(location: "https://ci:s3cret@reg.example/v2/a/blobs/uploads/u?_state=x", offset: 1)
        try journal.record(registry: "reg.example", repository: "a", digest: self.digest, size: 2, session: session)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.count == 1)
        let text = try String(contentsOfFile: dir.path + "/" + files[0], encoding: .utf8)
        #expect(!text.contains("s3cret") && !text.contains("ci@"))
        #expect(text.contains("https://reg.example/v2/a/blobs/uploads/u?_state=x"))
    }

    @Test("state lives under $XDG_STATE_HOME/ferry, else ~/.local/state/ferry")
    func defaultDirectory() {
        #expect(UploadJournal.defaultDirectory(environment: ["XDG_STATE_HOME": "/var/st", "HOME": "/h"]) == "/var/st/ferry/uploads")
        #expect(UploadJournal.defaultDirectory(environment: ["XDG_STATE_HOME": "relative", "HOME": "/h"]) == "/h/.local/state/ferry/uploads")
        #expect(UploadJournal.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.local/state/ferry/uploads")
    }
}
