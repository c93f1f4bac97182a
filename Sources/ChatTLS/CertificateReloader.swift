import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the TLS certificate and key on SIGHUP (`systemctl reload chatd`), for new
/// connections only: sessions and transfers already running keep theirs and are not dropped.
///
/// Runs even without TLS, because SIGHUP's default action would end the process: an operator's
/// reload must never be a stop.
package struct CertificateReloader: Service {
    package let identity: TLSIdentity?
    package let logger: Logger

    package func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            guard let identity else {
                logger.notice("SIGHUP: no TLS certificate configured, nothing to reload")
                continue
            }
            identity.reload(logger: logger)
        }
    }

    package init(identity: TLSIdentity?, logger: Logger) {
        self.identity = identity
        self.logger = logger
    }
}
