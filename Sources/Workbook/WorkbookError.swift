/// A user-facing failure of the chapter runtime: bad options, files or checkpoints.
///
/// `message` is what the chapter prints after `error: `, so it names the thing that is wrong and,
/// where there is one, what to do about it.
public struct WorkbookError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
