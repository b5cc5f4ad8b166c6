/// A label map on a coarser grid: each `cell` × `cell` block of `labels` ([H, W], row-major)
/// becomes its most common label, ties going to the smaller label — how a large map is brought
/// to a model's size (`SegmentationMapFile`) or read one label per code cell. H and W must be
/// multiples of `cell`; the result is [H / cell, W / cell].
public func majorityLabels(_ labels: [UInt8], width: Int, height: Int, cell: Int) -> [UInt8] {
    precondition(cell > 0 && width % cell == 0 && height % cell == 0 && labels.count == width * height,  // invariant: callers check sizes
                 "\(labels.count) labels of \(width)×\(height) in cells of \(cell)")
    return AreaResampling.majority(labels, width: width, height: height, rect: .init(x: 0, y: 0, width: width, height: height),
                                   outWidth: width / cell, outHeight: height / cell, flip: false)
}
