import SystemPackage
import _NIOFileSystem

extension FileHandleProtocol {
    /// Closes the handle even when the task is cancelled.
    ///
    /// NIO's `close()` gives up with `CancellationError` in a cancelled task, and a handle that is
    /// dropped unclosed stops the process. Clean-up after a cut connection or during shutdown runs
    /// in exactly such tasks, so it falls back to closing the descriptor directly.
    package func closeEvenIfCancelled() async {
        do {
            try await close()
        } catch {
            if let descriptor = try? detachUnsafeFileDescriptor() {
                try? descriptor.close()
            }
        }
    }
}
