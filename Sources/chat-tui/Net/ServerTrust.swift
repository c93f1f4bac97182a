import NIOSSL

/// Which certificates chat-tui accepts from an `https://` server: the system's trust store
/// (Debian's ca-certificates), or with `--ca-file` only the CA in that PEM file, for a team
/// server with a private CA. Verification, host name included, is never turned off.
struct ServerTrust: Sendable {
    /// The `--ca-file` path; `nil`: the system store.
    let caFile: String?

    /// A CA file that cannot be used.
    struct InvalidCAFile: Error, CustomStringConvertible {
        let description: String
    }

    /// The client TLS configuration for the API and the WebSocket; `nil` means the libraries'
    /// default, which verifies against the system store.
    func tlsConfiguration() throws(InvalidCAFile) -> TLSConfiguration? {
        guard let caFile else { return nil }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw InvalidCAFile(description: "--ca-file: cannot read a PEM certificate from \(caFile)")
        }
        guard !certificates.isEmpty else {
            throw InvalidCAFile(description: "--ca-file: no PEM certificate in \(caFile)")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(certificates)
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
