// Shape letters: H × W the large code grid, h × w the window the transformer was trained on.

/// Where the transformer's window sits on a code grid larger than it: the reference's rule for
/// sampling beyond the training size (R: `scripts/sample_conditional.py`, §4.2 "High-resolution
/// synthesis" of the paper).
///
/// A transformer trained on h × w codes can only read h·w of them. To draw the code at (i, j) of
/// an H × W grid, the reference crops an h × w window that holds (i, j) and predicts the code at
/// the window's local position (localRow, localColumn). Along each axis the local offset is
///
///     local = i              if i ≤ h/2            (near the start: the window is flush with it)
///             h − (H − i)    if H − i < h/2        (near the end: flush with the end)
///             h/2            otherwise              (inside: h/2 codes before i, the rest after)
///
/// which is the window's start `i − local` clamped to 0 … H − h. Inside the grid the window is
/// centred on the new code, so it sees h/2 rows above it and w/2 columns on either side; the
/// codes after (i, j) in the window's raster order are not drawn yet, and the causal mask keeps
/// them out of the prediction.
///
///     let window = SlidingWindow(gridHeight: 64, gridWidth: 128, windowHeight: 8, windowWidth: 8)
///     let place = window.placement(row: 30, column: 2)   // top 26, left 0, local (4, 2)
public struct SlidingWindow: Equatable, Sendable {
    /// H × W: the grid being drawn.
    public let gridHeight: Int, gridWidth: Int
    /// h × w: the transformer's trained window.
    public let windowHeight: Int, windowWidth: Int

    /// One placement of the window: its top-left corner on the grid, and where the drawn code
    /// sits inside it.
    public struct Placement: Equatable, Sendable {
        public var top: Int, left: Int
        public var localRow: Int, localColumn: Int
        /// The drawn code's index in the window's raster order (localRow·w + localColumn).
        public func localIndex(windowWidth: Int) -> Int { localRow * windowWidth + localColumn }
    }

    /// A window of h × w on an H × W grid; the grid must be at least as large as the window.
    public init(gridHeight: Int, gridWidth: Int, windowHeight: Int, windowWidth: Int) {
        precondition(windowHeight > 0 && windowWidth > 0 && gridHeight >= windowHeight && gridWidth >= windowWidth,  // invariant: callers check sizes
                     "a \(windowHeight)×\(windowWidth) window on a \(gridHeight)×\(gridWidth) grid")
        self.gridHeight = gridHeight; self.gridWidth = gridWidth
        self.windowHeight = windowHeight; self.windowWidth = windowWidth
    }

    /// The reference's local offset of position `i` along an axis of `extent` codes, for a window
    /// of `window` codes: i near the start, window − (extent − i) near the end, window/2 inside.
    public static func localOffset(_ i: Int, extent: Int, window: Int) -> Int {
        let half = window / 2
        if i <= half { return i }
        if extent - i < half { return window - (extent - i) }
        return half
    }

    /// The window that draws the code at (`row`, `column`).
    public func placement(row: Int, column: Int) -> Placement {
        let li = Self.localOffset(row, extent: gridHeight, window: windowHeight)
        let lj = Self.localOffset(column, extent: gridWidth, window: windowWidth)
        return Placement(top: row - li, left: column - lj, localRow: li, localColumn: lj)
    }

    /// The window shared by the codes `columns` of `row` (a run of at most w columns): placed by
    /// the rule for the run's middle column, so that a run of one column gets exactly
    /// `placement(row:column:)`, and the local position is the run's first code.
    public func placement(row: Int, columns: Range<Int>) -> Placement {
        precondition(!columns.isEmpty && columns.count <= windowWidth, "a run of \(columns.count) codes in a window of \(windowWidth)") // invariant: a programming error, not user input
        let middle = placement(row: row, column: columns.lowerBound + columns.count / 2)
        let left = min(middle.left, columns.lowerBound)
        let shifted = max(left, columns.upperBound - windowWidth)
        return Placement(top: middle.top, left: shifted, localRow: middle.localRow,
                         localColumn: columns.lowerBound - shifted)
    }

    /// The h·w values of `grid` (H·W, raster) under the window at `top`, `left`, in raster order.
    public func crop<T>(_ grid: [T], top: Int, left: Int) -> [T] {
        precondition(grid.count == gridHeight * gridWidth, "a grid of \(grid.count) values for \(gridHeight)×\(gridWidth)") // invariant: a programming error, not user input
        var out: [T] = []
        out.reserveCapacity(windowHeight * windowWidth)
        for r in top..<(top + windowHeight) {
            out += grid[(r * gridWidth + left)..<(r * gridWidth + left + windowWidth)]
        }
        return out
    }
}
