/// The per-pixel classes of the landscape segmentation maps.
///
/// A segmentation map stores one `rawValue` per pixel (row-major, `[H, W]`). Folder datasets use the
/// same convention: a `x.seg.png` holds these indices as grey levels, so a user's own maps can be
/// drawn with the classes below (or with any indices below 256, if they bring their own classes).
public enum SemanticClass: UInt8, CaseIterable, Sendable {
    case sky = 0
    case cloud = 1
    case mountain = 2
    case snow = 3
    case grass = 4
    case tree = 5
    case water = 6
    case sand = 7
    case rock = 8

    /// Number of classes: the size of a one-hot segmentation channel axis.
    public static let count = allCases.count

    /// A lower-case name for legends and summaries.
    public var name: String {
        switch self {
        case .sky: "sky"
        case .cloud: "cloud"
        case .mountain: "mountain"
        case .snow: "snow"
        case .grass: "grass"
        case .tree: "tree"
        case .water: "water"
        case .sand: "sand"
        case .rock: "rock"
        }
    }

    /// A display colour (8-bit sRGB) for colourised segmentation maps: distinct hues, each a
    /// caricature of the class so a map reads at a glance.
    public var displayColor: (red: UInt8, green: UInt8, blue: UInt8) {
        switch self {
        case .sky: (110, 170, 240)
        case .cloud: (235, 235, 245)
        case .mountain: (120, 90, 140)
        case .snow: (255, 255, 255)
        case .grass: (80, 170, 60)
        case .tree: (20, 90, 40)
        case .water: (20, 60, 190)
        case .sand: (235, 200, 110)
        case .rock: (130, 110, 90)
        }
    }

    /// The display colours of all classes in index order, for a colouriser's palette.
    public static var displayPalette: [(red: UInt8, green: UInt8, blue: UInt8)] {
        allCases.map(\.displayColor)
    }
}
