import Shared
import Testing
import HTTPParsing
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatTLS
@testable import ChatHTTP
import ChatTestSupport


@Suite("Range requests")
struct ByteRangeRequestTests {
    @Test func singleRanges() {
        #expect(ByteRangeRequest.evaluate("bytes=0-4", size: 10) == .partial(0...4))
        #expect(ByteRangeRequest.evaluate("bytes=5-", size: 10) == .partial(5...9))
        #expect(ByteRangeRequest.evaluate("bytes=-3", size: 10) == .partial(7...9))
        #expect(ByteRangeRequest.evaluate("bytes=-30", size: 10) == .partial(0...9))
        #expect(ByteRangeRequest.evaluate("bytes=8-100", size: 10) == .partial(8...9), "end clamped to the file")
    }

    @Test func unsatisfiable() {
        #expect(ByteRangeRequest.evaluate("bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.evaluate("bytes=10-20", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.evaluate("bytes=-0", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.evaluate("bytes=0-", size: 0) == .unsatisfiable)
    }

    @Test func ignoredHeadersServeTheWholeFile() {
        #expect(ByteRangeRequest.evaluate(nil, size: 10) == .full)
        #expect(ByteRangeRequest.evaluate("bytes=0-1,4-5", size: 10) == .full, "multiple ranges")
        #expect(ByteRangeRequest.evaluate("items=0-1", size: 10) == .full)
        #expect(ByteRangeRequest.evaluate("bytes=5-2", size: 10) == .full)
        #expect(ByteRangeRequest.evaluate("bytes=x-", size: 10) == .full)
    }
}

@Suite("Download and multipart headers")
struct HeaderPartsTests {
    @Test func contentDispositionKeepsTheExactNameAndAnASCIIFallback() {
        #expect(FileDownload.contentDisposition("a b.txt") == "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt")
        #expect(FileDownload.contentDisposition("é\"x") == "attachment; filename=\"__x\"; filename*=UTF-8''%C3%A9%22x")
    }

    @Test func httpDates() {
        #expect(Timestamp.httpDate(millis: 1_795_253_400_999) == "Sat, 21 Nov 2026 09:30:00 GMT")
        #expect(Timestamp.httpDate(millis: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func multipartBoundaryAndDisposition() {
        #expect(MultipartUpload.boundary(of: "multipart/form-data; boundary=----abc") == "----abc")
        #expect(MultipartUpload.boundary(of: "multipart/form-data; charset=utf-8; boundary=\"q r\"") == "q r")
        #expect(MultipartUpload.boundary(of: "multipart/form-data") == nil)
        let plain = MultipartUpload.parseDisposition("form-data; name=\"file\"; filename=\"a;b.txt\"")
        #expect(plain.name == "file" && plain.filename == "a;b.txt")
        let star = MultipartUpload.parseDisposition("form-data; name=\"file\"; filename=\"x\"; filename*=UTF-8''%C3%A9.txt")
        #expect(star.filename == "é.txt")
    }
}
