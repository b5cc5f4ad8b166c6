/// The scene types of the procedural landscapes: each has its own palette, lighting and mix of
/// semantic classes, and serves as the class label of class-conditional chapters.
public enum SceneClass: Int, CaseIterable, Sendable {
    /// Blue sky, white clouds, green hills, lakes, forests.
    case day = 0
    /// Warm low sun, orange sky, dark silhouettes, glowing water.
    case sunset = 1
    /// Dark blue sky with stars and sometimes a moon; dim shapes.
    case night = 2
    /// Overcast winter: snowy ground and peaks, dark conifers, icy water.
    case snow = 3
    /// Dunes, red mesas, boulders, cacti, a rare oasis.
    case desert = 4

    /// Number of scene classes: the size of a class-token vocabulary.
    public static let count = allCases.count

    /// A lower-case name for figure labels and summaries.
    public var name: String {
        switch self {
        case .day: "day"
        case .sunset: "sunset"
        case .night: "night"
        case .snow: "snow"
        case .desert: "desert"
        }
    }
}
