/// What can be wrong with the conditioning a chapter hands in: a class, a segmentation map or a
/// code sequence that does not fit the model. Each message names the value and where it is, so a
/// chapter can print `error: \(error)` and the learner knows what to fix.
public enum ConditioningError: Error, Equatable, CustomStringConvertible {
    /// A per-pixel label at flat position `index` (row-major over [B, H, W]) is not below
    /// `classes`.
    case labelOutOfRange(label: Int, index: Int, classes: Int)
    /// A picture's class is not in 0..<classes.
    case classOutOfRange(value: Int, classes: Int)
    /// A code at position `index` of a code sequence is not in 0..<codebookSize.
    case codeOutOfRange(code: Int, index: Int, codebookSize: Int)
    /// Sizes that do not fit together (labels for a batch, codes for a grid, …).
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .labelOutOfRange(let label, let index, let classes):
            return "label \(label) at position \(index) is not a class (expected 0…\(classes - 1))"
        case .classOutOfRange(let value, let classes):
            return "class \(value) is not one of the \(classes) classes (expected 0…\(classes - 1))"
        case .codeOutOfRange(let code, let index, let codebookSize):
            return "code \(code) at position \(index) is not in the codebook of \(codebookSize) codes"
        case .shapeMismatch(let message):
            return message
        }
    }
}
