import Foundation
import Logging
import NIOSSL
import Synchronization

/// The server's certificate chain and private key (`--tls-cert`, `--tls-key`, PEM), as the
/// `NIOSSLContext` every new TLS connection starts from: HTTPS and WSS on the HTTP listener, FTPS
/// control and data connections.
///
/// Reloadable because certificates expire (a Let's Encrypt one every 90 days): ``reload(logger:)``
/// (on SIGHUP) reads both files again and swaps the context. Connections already up keep the
/// context they began with, so nobody is dropped; a file that no longer loads keeps the old
/// context, so a botched renewal does not take the server down.
package final class TLSIdentity: Sendable {
    /// Where the PEM files are.
    package struct Files: Sendable, Equatable {
        package var certificateChain: String
        package var privateKey: String

        package init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// A certificate or key that cannot be used, with the file and the reason.
    package struct LoadError: Error, CustomStringConvertible {
        package let description: String
    }

    package let files: Files
    private let current: Mutex<NIOSSLContext>

    package init(files: Files) throws(LoadError) {
        self.files = files
        self.current = Mutex(try Self.makeContext(files))
    }

    /// The context for a connection accepted now.
    package var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads the files again; on success new connections use them. Returns whether it worked.
    @discardableResult
    package func reload(logger: Logger) -> Bool {
        do {
            let context = try Self.makeContext(files)
            current.withLock { $0 = context }
            logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(files.certificateChain)"])
            return true
        } catch {
            logger.error("TLS certificate not reloaded; the previous one stays in use", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// A TLS 1.2+ server context from the chain (leaf first) and its key. A key that does not
    /// belong to the leaf certificate is refused here, not at the first handshake.
    package static func makeContext(_ files: Files) throws(LoadError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw LoadError(description: "cannot read the TLS certificate \(files.certificateChain): \(reason(files.certificateChain, error))")
        }
        guard !chain.isEmpty else {
            throw LoadError(description: "no PEM certificate in \(files.certificateChain)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            throw LoadError(description: "cannot read the TLS private key \(files.privateKey): \(reason(files.privateKey, error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw LoadError(description: "the TLS key \(files.privateKey) does not fit the certificate \(files.certificateChain): \(error)")
        }
    }

    /// NIOSSL says only `failedToLoadCertificate` whether the file is missing, unreadable or not
    /// PEM; the operator needs to know which.
    private static func reason(_ path: String, _ error: any Error) -> String {
        guard access(path, R_OK) == 0 else { return String(cString: strerror(errno)).lowercased() }
        return "not a PEM file NIOSSL can load (\(error))"
    }
}
