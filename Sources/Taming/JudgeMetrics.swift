/// How often each true class was predicted as each class: the one table from which every score
/// of a classifier or a segmenter follows. Rows are the truth, columns the prediction:
/// `self[truth: i, predicted: j]` counts the pictures (or pixels) of class i labelled j.
///
/// With n_ij those counts, t_i = Σ_j n_ij the pictures of class i and p_j = Σ_i n_ij the ones
/// predicted j:
///
///     accuracy      = Σ_i n_ii / Σ_ij n_ij          (pixel accuracy, for maps)
///     accuracy of i = n_ii / t_i                    (recall; undefined when t_i = 0)
///     IoU of i      = n_ii / (t_i + p_i − n_ii)     (undefined when class i is in neither)
///     mean IoU      = the mean of the defined IoUs
///
/// Mean IoU is the segmentation benchmarks' headline score: unlike pixel accuracy, a map that
/// paints everything as the largest class (sky) scores badly on it, because every other class's
/// IoU is 0. Classes absent from both the truth and the prediction are left out of the mean, as
/// in the usual definition (they were neither missed nor invented).
public struct ConfusionMatrix: Codable, Equatable, Sendable {
    /// Number of classes.
    public let classes: Int
    /// The counts n_ij, row-major: `counts[i * classes + j]`.
    public private(set) var counts: [Int]

    /// An empty table for `classes` classes.
    public init(classes: Int) {
        precondition(classes > 0, "a confusion matrix needs classes") // invariant: a programming error
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// The table of `predicted` against `truth` (equally long, values in 0..<classes).
    public init<T: BinaryInteger>(classes: Int, truth: [T], predicted: [T]) throws {
        self.init(classes: classes)
        try add(truth: truth, predicted: predicted)
    }

    /// Counts more (truth, prediction) pairs.
    /// - Throws: `ConditioningError` when the arrays differ in length or a value is not a class.
    public mutating func add<T: BinaryInteger>(truth: [T], predicted: [T]) throws {
        guard truth.count == predicted.count else {
            throw ConditioningError.shapeMismatch("\(predicted.count) predictions for \(truth.count) true labels")
        }
        for (index, (t, p)) in zip(truth, predicted).enumerated() {
            guard t >= 0, t < classes else {
                throw ConditioningError.labelOutOfRange(label: Int(t), index: index, classes: classes)
            }
            guard p >= 0, p < classes else {
                throw ConditioningError.labelOutOfRange(label: Int(p), index: index, classes: classes)
            }
            counts[Int(t) * classes + Int(p)] += 1
        }
    }

    /// Adds another table's counts (of the same classes).
    public mutating func add(_ other: ConfusionMatrix) {
        precondition(other.classes == classes, "\(other.classes) vs \(classes) classes") // invariant: a programming error
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// n_ij: how many of class `truth` were predicted `predicted`.
    public subscript(truth truth: Int, predicted predicted: Int) -> Int { counts[truth * classes + predicted] }

    /// Everything counted.
    public var total: Int { counts.reduce(0, +) }

    /// How many of each class there truly are (t_i) and how many were predicted so (p_j).
    public var truthCounts: [Int] { (0..<classes).map { i in (0..<classes).reduce(0) { $0 + self[truth: i, predicted: $1] } } }
    public var predictedCounts: [Int] { (0..<classes).map { j in (0..<classes).reduce(0) { $0 + self[truth: $1, predicted: j] } } }

    /// The fraction predicted right (pixel accuracy for maps); 0 when nothing was counted.
    public var accuracy: Double {
        let correct = (0..<classes).reduce(0) { $0 + self[truth: $1, predicted: $1] }
        return total > 0 ? Double(correct) / Double(total) : 0
    }

    /// Per class, the fraction of its members predicted right (nil for a class never true).
    public var classAccuracies: [Double?] {
        let t = truthCounts
        return (0..<classes).map { t[$0] > 0 ? Double(self[truth: $0, predicted: $0]) / Double(t[$0]) : nil }
    }

    /// Per class, intersection over union (nil for a class neither true nor predicted).
    public var intersectionsOverUnions: [Double?] {
        let t = truthCounts, p = predictedCounts
        return (0..<classes).map { i in
            let hit = self[truth: i, predicted: i]
            let union = t[i] + p[i] - hit
            return union > 0 ? Double(hit) / Double(union) : nil
        }
    }

    /// The mean of the defined IoUs; 0 when nothing was counted.
    public var meanIntersectionOverUnion: Double {
        let defined = intersectionsOverUnions.compactMap { $0 }
        return defined.isEmpty ? 0 : defined.reduce(0, +) / Double(defined.count)
    }

    /// The mean of the defined per-class accuracies (balanced accuracy); 0 when nothing was counted.
    public var meanClassAccuracy: Double {
        let defined = classAccuracies.compactMap { $0 }
        return defined.isEmpty ? 0 : defined.reduce(0, +) / Double(defined.count)
    }
}
