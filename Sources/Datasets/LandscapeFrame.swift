/// Which part of the landscape world a picture shows, and at what scale.
///
/// The world has its own units: one unit is the height of the *standard view*, whose top is at
/// v = 0 and bottom at v = 1, with the horizon a little below the middle; u runs left to right.
/// A W×H picture with `pixelsPerUnit = H` (the default) shows exactly the standard view, so a
/// 32×32 and a 512×512 sample are the same kind of scene at two resolutions, and a 1024×256
/// sample is a 4:1 panorama of it. A larger `pixelsPerUnit` zooms in; a picture taller than one
/// unit extends the view up (more sky) and down (more foreground), centred on the standard view.
/// Because the world's statistics do not depend on u, any horizontal crop of a wide picture looks
/// like a picture of its own width.
public struct LandscapeFrame: Sendable, Equatable {
    /// Picture size in pixels.
    public var width: Int
    public var height: Int
    /// Pixels per world unit (the standard view's height in pixels).
    public var pixelsPerUnit: Float

    /// A frame of `width`×`height` pixels; `pixelsPerUnit` defaults to `height` (the standard view).
    public init(width: Int, height: Int, pixelsPerUnit: Float? = nil) {
        precondition(width > 0 && height > 0, "frame of \(width)×\(height)") // invariant: callers validate sizes
        self.width = width
        self.height = height
        self.pixelsPerUnit = pixelsPerUnit ?? Float(height)
        precondition(self.pixelsPerUnit > 0, "pixelsPerUnit must be positive") // invariant: a programming error, not user input
    }

    /// World v at the top edge: the view is centred vertically on the standard view.
    var top: Float { 0.5 - Float(height) / pixelsPerUnit / 2 }

    /// World u of the centre of pixel column `x`.
    @inline(__always) func u(_ x: Int) -> Float { (Float(x) + 0.5) / pixelsPerUnit }

    /// World v of the centre of pixel row `y`.
    @inline(__always) func v(_ y: Int) -> Float { top + (Float(y) + 0.5) / pixelsPerUnit }

    /// The pixel row (fractional, centres at .5) of world height `v`.
    @inline(__always) func row(_ v: Float) -> Float { (v - top) * pixelsPerUnit }

    /// The pixel column (fractional) of world position `u`.
    @inline(__always) func column(_ u: Float) -> Float { u * pixelsPerUnit }
}
