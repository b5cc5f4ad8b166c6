/// A chart that renders itself as a standalone SVG document: real `<text>` (searchable,
/// selectable), a white background (readable in dark mode), fixed number formatting (the same
/// data always gives the same bytes), and nothing external, so it renders on GitHub as it is.
public protocol Chart {
    /// The SVG document.
    var svg: String { get }
}

extension Chart {
    /// Writes the SVG atomically (temporary file, then rename), creating the folder.
    public func write(to path: String) throws {
        try AtomicWrite.write(Array(svg.utf8), to: path)
    }
}

/// How values map to positions along an axis.
public enum AxisScale: Sendable {
    /// Equal differences take equal lengths.
    case linear
    /// Equal ratios take equal lengths (powers of ten evenly spaced); values ≤ 0 are left out.
    case log
}
