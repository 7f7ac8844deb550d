import Glibc
import NIOCore
import NIOHTTP1

/// Errors that only mean "the other side went away", which the proxy causes itself (cut, 413) or
/// sees when a client gives up (a timeout, a stall detector): not worth a log line.
func isOrdinaryDisconnect(_ error: any Error) -> Bool {
    if let error = error as? IOError { return [ECONNRESET, EPIPE].contains(error.errnoCode) }
    if let error = error as? HTTPParserError { return error == .invalidEOFState }
    if let error = error as? ChannelError { return error == .eof || error == .ioOnClosedChannel }
    return false
}
