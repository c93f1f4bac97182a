import ChatCore
import Logging

/// The server's log: `DATA_DIR/logs/server.log`, and stderr too unless told otherwise, both at
/// `--log-level`. Every library below takes this logger; none builds its own.
enum ServerLogging {
    static func start(_ config: ServerConfig) throws(StartupError) -> (Logger, LogFile) {
        let logFile = try LogFile(directory: config.dataDirectory)
        var logger = Logger(label: "chatd") { label in
            var file = LogFileHandler(label: label, file: logFile)
            file.logLevel = config.logLevel
            guard config.logToStderr else { return file }
            var stderr = StreamLogHandler.standardError(label: label)
            stderr.logLevel = config.logLevel
            return MultiplexLogHandler([stderr, file])
        }
        logger.logLevel = config.logLevel
        return (logger, logFile)
    }
}
