/// A setting whose value cannot be used, in one line that names it: `--http: port must be
/// 0-65535, got '99999'`. The command line, the environment and the config file all report it.
package struct InvalidSetting: Error, CustomStringConvertible {
    package let description: String

    package init(description: String) {
        self.description = description
    }
}
