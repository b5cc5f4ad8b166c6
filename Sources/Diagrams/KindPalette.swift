/// Colours for layer kinds, so the same kind of layer looks the same in every diagram:
/// convolutions blue, normalisations amber, attention rose, residual blocks green, and so on.
/// Kinds are matched by the first keyword they contain (case-insensitive); the rest are slate.
public struct KindPalette: Sendable {
    /// A fill colour and a darker border colour, as `#rrggbb`.
    public struct Colors: Hashable, Sendable {
        public var fill: String
        public var border: String
        public init(fill: String, border: String) {
            self.fill = fill
            self.border = border
        }
    }

    /// Keyword lists and their colours, tried in order (so "AttnBlock" is attention, not a block).
    public var rules: [(keywords: [String], colors: Colors)]
    /// The colours of kinds that match no rule.
    public var fallback: Colors

    public init(rules: [(keywords: [String], colors: Colors)], fallback: Colors) {
        self.rules = rules
        self.fallback = fallback
    }

    public func colors(forKind kind: String) -> Colors {
        let lowered = kind.lowercased()
        for rule in rules where rule.keywords.contains(where: { lowered.contains($0) }) {
            return rule.colors
        }
        return fallback
    }

    /// The workbook's palette: soft fills, saturated borders (Tailwind's 100 and 600 shades).
    public static let standard = KindPalette(
        rules: [
            (["attn", "attention"], Colors(fill: "#ffe4e6", border: "#e11d48")),
            (["quant", "codebook"], Colors(fill: "#ffedd5", border: "#ea580c")),
            (["embed", "parameter"], Colors(fill: "#ede9fe", border: "#7c3aed")),
            (["norm"], Colors(fill: "#fef3c7", border: "#d97706")),
            (["sample", "pool"], Colors(fill: "#ccfbf1", border: "#0d9488")),
            (["conv"], Colors(fill: "#dbeafe", border: "#2563eb")),
            (["linear", "mlp", "head"], Colors(fill: "#cffafe", border: "#0891b2")),
            (["loss", "discriminator"], Colors(fill: "#fee2e2", border: "#dc2626")),
            (["resnet", "block", "layer"], Colors(fill: "#dcfce7", border: "#16a34a")),
            (["relu", "silu", "gelu", "swish", "tanh", "sigmoid", "dropout", "activation"],
             Colors(fill: "#f3f4f6", border: "#6b7280")),
            (["encoder", "decoder", "gpt", "transformer", "model"], Colors(fill: "#e0e7ff", border: "#4f46e5")),
        ],
        fallback: Colors(fill: "#f1f5f9", border: "#475569"))
}
