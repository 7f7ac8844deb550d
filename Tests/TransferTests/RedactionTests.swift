import Testing
@testable import Transfer

@Suite struct RedactionTests {
    @Test func headersWithCredentialsAreRedacted() {
        #expect(Redaction.header("Authorization", "Basic dTpw") == "Authorization: <redacted>")
        #expect(Redaction.header("set-cookie", "s=1") == "set-cookie: <redacted>")
        #expect(Redaction.header("Content-Type", "application/json") == "Content-Type: application/json")
    }

    @Test func signedURLsAndUserInfoAreRedacted() {
        let s3 = "https://bucket.s3.amazonaws.com/docker/blobs/x/data?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc123&X-Amz-Expires=1200"
        let r = Redaction.url(s3)
        #expect(!r.contains("abc123") && !r.contains("AKIA"))
        #expect(r.contains("X-Amz-Algorithm=AWS4") && r.contains("X-Amz-Expires=1200"))
        #expect(Redaction.url("https://user:pa55@host/v2/") == "https://<redacted>@host/v2/")
        #expect(Redaction.url("http://h/token?service=s&scope=repository:a:pull") == "http://h/token?service=s&scope=repository:a:pull")
        #expect(Redaction.header("Location", "https://cdn/x?token=t0p") == "Location: https://cdn/x?token=<redacted>")
    }
}
