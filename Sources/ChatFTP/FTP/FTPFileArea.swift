import ChatCore
import FTPProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Shared
import _NIOFileSystem

/// The file area as one FTP user sees it: carries out the session's ``FTPSession/Operation``s and
/// ``FTPSession/Transfer``s through the shared ``FileStore``, so names, ownership, limits, quotas
/// and `file` events are the HTTP API's by construction.
package struct FTPFileArea: Sendable {
    package let files: FileStore
    /// The logged-in account; `nil` for an anonymous user, who may only read.
    package let account: Account?
    package let metrics: ChatMetrics
    package let logger: Logger

    // MARK: operations on the control connection

    package func perform(_ operation: FTPSession.Operation) async -> FTPSession.Outcome {
        do {
            switch operation {
            case .delete(let name):
                _ = try await files.delete(named: name, by: try owner())
                return .done
            case .rename(let from, let to):
                _ = try await files.rename(from: from, to: to, by: try owner())
                return .done
            case .checkRenameSource(let name):
                let file = try await existing(name)
                try FilePolicy.checkMayChange(file, by: account?.id)
                return .done
            case .size(let name):
                return .size(try await existing(name).size)
            case .modificationTime(let name):
                return .modificationTime(FTPListing.timeValue(millis: try await existing(name).uploadedAtMillis))
            case .statusListing(let path):
                return .listing(try await listing(.list, path: path))
            case .facts(let name):
                if name.isEmpty { return .facts(FTPListing.rootFactsLine(userMayCreate: account != nil)) }
                return .facts(FTPListing.factsLine(entry(try await existing(name))))
            }
        } catch {
            return .failed(FTPReply(refusing: files.storageError(error)))
        }
    }

    // MARK: transfers

    /// What a transfer needs before its data connection opens. Preparing first means a missing
    /// file or a refused upload is answered 550 at once, without a 150 and a data connection.
    package enum Prepared {
        case listing(ByteBuffer)
        case retrieve(StoredFile, ReadFileHandle, offset: Int64)
        case store(FileUpload)

        /// Releases what was prepared when the transfer does not go ahead.
        package func discard() async {
            switch self {
            case .listing: break
            case .retrieve(_, let handle, _): await handle.closeEvenIfCancelled()
            case .store(let upload): await upload.abort()
            }
        }
    }

    package func prepare(_ transfer: FTPSession.Transfer) async throws(FileError) -> Prepared {
        do {
            switch transfer {
            case .listing(let format, let path):
                return .listing(FTPListing.wire(try await listing(format, path: path)))
            case .retrieve(let name, let offset):
                let (file, handle) = try await files.open(named: name)
                guard offset <= file.size else {
                    await handle.closeEvenIfCancelled()
                    throw FileError.invalidOffset(requested: offset, size: file.size)
                }
                return .retrieve(file, handle, offset: offset)
            case .store(let name, let offset, let append):
                let start: FileStore.UploadStart = append ? .storedFile : offset > 0 ? .storedPrefix(offset) : .empty
                return .store(try await files.beginUpload(name: name, by: try owner(), declaredSize: nil, start: start))
            }
        } catch {
            throw files.storageError(error)
        }
    }

    /// Bytes of a file sent per `sendfile` round. The data connection's idle timeout counts
    /// completed writes, so a round must finish within it even on a slow link (4 MiB in 300 s is
    /// 14 KB/s); the hop between rounds is noise at that size.
    package static let retrieveChunk: Int64 = 4 << 20

    /// Runs a prepared transfer on an open data connection and closes it. The outcome comes once
    /// the connection is closed (under TLS, once close_notify went out), so the client has the
    /// end of the data before the 226.
    package func run(_ prepared: Prepared, on data: FTPDataConnection) async -> FTPSession.Outcome {
        switch prepared {
        case .listing(let bytes):
            let written: Bool
            do {
                try await data.channel.channel.writeAndFlush(bytes).get()
                written = true
            } catch {
                written = false
            }
            await data.close()
            guard written, !data.wasCutShort else { return .aborted }
            metrics.ftpTransfer(.list)
            return .done

        case .retrieve(let file, let handle, let offset):
            let outcome = data.isProtected
                ? await stream(file, from: handle, offset: offset, to: data)
                : await sendfile(file, from: handle, offset: offset, to: data)
            await data.close()
            guard case .done = outcome else { return outcome }
            logger.info("ftp download", metadata: ["name": "\(file.name)", "bytes": "\(file.size - offset)", "user": "\(userName)",
                                                   "tls": "\(data.isProtected)"])
            guard !data.wasCutShort else { return .aborted }
            metrics.ftpTransfer(.retr)
            metrics.downloaded(file.size - offset, via: .ftp)
            return .done

        case .store(let upload):
            var received: Int64 = 0
            do {
                try await data.channel.executeThenClose { inbound, _ in
                    for try await bytes in inbound {
                        received += Int64(bytes.readableBytes)
                        try await upload.write(bytes)
                    }
                }
            } catch let error as FileError {
                return .failed(FTPReply(refusing: error))
            } catch NIOSSLError.uncleanShutdown {
                // Strict, as vsftpd's strict_ssl_read_eof: under TLS the end of an upload is
                // proven only by close_notify. curl, lftp and Python's ftplib all send it.
                await upload.abort()
                if data.wasCutShort { return .aborted }
                logger.notice("ftp upload over TLS ended without close_notify; not stored",
                              metadata: ["name": "\(upload.name)", "bytes": "\(upload.size)", "user": "\(userName)"])
                return .unconfirmedEnd
            } catch {
                await upload.abort()
                return .aborted
            }
            guard !data.wasCutShort else {
                await upload.abort()
                return .aborted
            }
            do {
                let (file, _) = try await upload.commit()
                logger.info("ftp upload", metadata: ["name": "\(file.name)", "bytes": "\(file.size)", "user": "\(userName)",
                                                     "tls": "\(data.isProtected)"])
                metrics.ftpTransfer(.stor)
                metrics.uploaded(received, via: .ftp)
                return .done
            } catch {
                return .failed(FTPReply(refusing: files.storageError(error)))
            }
        }
    }

    /// A plain `RETR`: the kernel copies the file to the socket (`sendfile`), in rounds of
    /// ``retrieveChunk``.
    private func sendfile(_ file: StoredFile, from handle: ReadFileHandle, offset: Int64,
                          to data: FTPDataConnection) async -> FTPSession.Outcome {
        let descriptor: FileDescriptor
        do {
            descriptor = try handle.detachUnsafeFileDescriptor()
        } catch {
            await handle.closeEvenIfCancelled()
            return .failed(FTPReply(refusing: files.storageError(error)))
        }
        // NIO's sendfile path takes the older NIOFileHandle.
        let region = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor.rawValue)
        defer { try? region.close() }
        var position = offset
        do {
            while position < file.size {
                let end = min(position + Self.retrieveChunk, file.size)
                let chunk = FileRegion(fileHandle: region, readerIndex: Int(position), endIndex: Int(end))
                try await data.channel.channel.writeAndFlush(IOData.fileRegion(chunk)).get()
                position = end
            }
        } catch {
            return .aborted
        }
        return .done
    }

    /// A `RETR` under TLS, which `sendfile` cannot serve: the file read in blocks of
    /// ``FileStore/readBlock`` and written as buffers through the TLS handler, the next block
    /// read while the last one is written (``FileBlocks``, no read-ahead), so memory stays at
    /// two blocks.
    private func stream(_ file: StoredFile, from handle: ReadFileHandle, offset: Int64,
                        to data: FTPDataConnection) async -> FTPSession.Outcome {
        let channel = data.channel.channel
        var written: EventLoopFuture<Void>?
        let outcome: FTPSession.Outcome
        do {
            try await FileBlocks.forEach(in: handle, range: offset..<file.size) { block in
                try await written?.get()
                written = channel.writeAndFlush(block)
            }
            try await written?.get()
            outcome = .done
        } catch let error as FileSystemError {
            outcome = .failed(FTPReply(refusing: files.storageError(error)))
        } catch {
            outcome = .aborted
        }
        await handle.closeEvenIfCancelled()
        return outcome
    }

    // MARK: helpers

    private var userName: String { account?.name ?? "anonymous" }

    /// The account a change is made as. The session refuses anonymous changes before they get
    /// here; should one slip through, it is refused like any change to another user's file.
    private func owner() throws -> Account {
        guard let account else { throw FileError.notOwner(name: "", owner: "") }
        return account
    }

    private func existing(_ name: String) async throws -> StoredFile {
        guard let file = try await files.file(named: name) else { throw FileError.notFound(name) }
        return file
    }

    private func entry(_ file: StoredFile) -> FTPListing.Entry {
        FTPListing.Entry(name: file.name, ownerName: file.ownerName, size: file.size, modifiedMillis: file.uploadedAtMillis,
                         userMayModify: FilePolicy.mayChange(file, by: account?.id), unique: file.blob)
    }

    /// The listing of the one directory, or of one file named by `path` (as `ls name` does).
    private func listing(_ format: FTPSession.ListingFormat, path: String?) async throws -> [String] {
        var selected: [StoredFile]
        if let path, !FTPSession.isRoot(path) {
            guard let name = FTPSession.fileName(path), let file = try await files.file(named: name) else {
                throw FileError.notFound(path)
            }
            selected = [file]
        } else {
            selected = try await files.list()
        }
        let now = Timestamp.nowMillis()
        return selected.map { file in
            switch format {
            case .list: FTPListing.listLine(entry(file), nowMillis: now)
            case .names: FTPListing.nameLine(entry(file))
            case .facts: FTPListing.factsLine(entry(file))
            }
        }
    }
}
