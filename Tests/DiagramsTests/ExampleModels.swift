@testable import Diagrams

/// Module trees built by hand the way the NN layer describes its modules: a small VQGAN encoder
/// (Esser et al. 2021, the taming-transformers `Encoder`) and a GPT over code indices. Parameter
/// counts follow the layers' formulas, so the numbers in the pictures are the real ones.
enum ExampleModels {
    // Shapes: B batch, C channels, H×W spatial size, T tokens, D embedding width, K codebook size.

    static func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int, output: [Int]) -> ArchitectureNode {
        ArchitectureNode(name: name, kind: "Conv2d", parameterCount: cin * cout * kernel * kernel + cout,
                         outputShape: output, detail: "\(cin)→\(cout), \(kernel)×\(kernel)")
    }

    static func groupNorm(_ name: String, _ channels: Int, output: [Int]) -> ArchitectureNode {
        ArchitectureNode(name: name, kind: "GroupNorm", parameterCount: 2 * channels, outputShape: output,
                         detail: "32 groups")
    }

    static func resnetBlock(_ name: String, _ cin: Int, _ cout: Int, batch: Int, size: Int) -> ArchitectureNode {
        let input = [batch, cin, size, size], output = [batch, cout, size, size] // [B, C, H, W]
        var children = [
            groupNorm("norm1", cin, output: input), conv("conv1", cin, cout, kernel: 3, output: output),
            groupNorm("norm2", cout, output: output), conv("conv2", cout, cout, kernel: 3, output: output),
        ]
        if cin != cout { children.append(conv("nin_shortcut", cin, cout, kernel: 1, output: output)) }
        return .container(name, kind: "ResnetBlock", outputShape: output, children)
    }

    static func attnBlock(_ name: String, _ channels: Int, batch: Int, size: Int) -> ArchitectureNode {
        let shape = [batch, channels, size, size] // [B, C, H, W]
        return .container(name, kind: "AttnBlock", outputShape: shape, [
            groupNorm("norm", channels, output: shape),
            conv("q", channels, channels, kernel: 1, output: shape),
            conv("k", channels, channels, kernel: 1, output: shape),
            conv("v", channels, channels, kernel: 1, output: shape),
            conv("proj_out", channels, channels, kernel: 1, output: shape),
        ])
    }

    /// The encoder for 32×32 images: 64 channels, multipliers (1, 2, 2), two ResnetBlocks per
    /// level, attention at 8×8, 64-channel latents.
    static func vqganEncoder(batch: Int = 8) -> ArchitectureNode {
        let base = 64, multipliers = [1, 2, 2], blocksPerLevel = 2
        var size = 32, channels = base
        var levels: [ArchitectureNode] = []
        for (index, multiplier) in multipliers.enumerated() {
            let out = base * multiplier
            // Children in data-flow order: with attention at this size, block.i then attn.i.
            var parts: [ArchitectureNode] = []
            for block in 0..<blocksPerLevel {
                parts.append(resnetBlock("block.\(block)", channels, out, batch: batch, size: size))
                channels = out
                if size == 8 { parts.append(attnBlock("attn.\(block)", out, batch: batch, size: size)) }
            }
            if index < multipliers.count - 1 {
                size /= 2
                parts.append(.container("downsample", kind: "Downsample", outputShape: [batch, out, size, size], [
                    conv("conv", out, out, kernel: 3, output: [batch, out, size, size]),
                ]))
            }
            levels.append(.container("\(index)", kind: "Module", outputShape: [batch, out, size, size], parts))
        }
        let latent = [batch, channels, size, size] // [B, C, H, W]
        return .container("encoder", kind: "Encoder", outputShape: [batch, 64, size, size], [
            conv("conv_in", 3, base, kernel: 3, output: [batch, base, 32, 32]),
            .container("down", kind: "ModuleList", levels),
            .container("mid", kind: "Module", outputShape: latent, [
                resnetBlock("block_1", channels, channels, batch: batch, size: size),
                attnBlock("attn_1", channels, batch: batch, size: size),
                resnetBlock("block_2", channels, channels, batch: batch, size: size),
            ]),
            groupNorm("norm_out", channels, output: latent),
            conv("conv_out", channels, 64, kernel: 3, output: [batch, 64, size, size]),
        ])
    }

    /// A GPT over K = 512 codes: T = 64 tokens, D = 256, 8 layers, 8 heads.
    static func gpt(batch: Int = 4, layers: Int = 8) -> ArchitectureNode {
        let vocabulary = 512, tokens = 64, width = 256
        let sequence = [batch, tokens, width] // [B, T, D]
        func linear(_ name: String, _ din: Int, _ dout: Int, bias: Bool = true, output: [Int]) -> ArchitectureNode {
            ArchitectureNode(name: name, kind: "Linear", parameterCount: din * dout + (bias ? dout : 0),
                             outputShape: output, detail: "\(din)→\(dout)")
        }
        func layerNorm(_ name: String) -> ArchitectureNode {
            ArchitectureNode(name: name, kind: "LayerNorm", parameterCount: 2 * width, outputShape: sequence)
        }
        let block = { (index: Int) -> ArchitectureNode in
            .container("\(index)", kind: "Block", outputShape: sequence, [
                layerNorm("ln1"),
                .container("attn", kind: "CausalSelfAttention", outputShape: sequence, detail: "8 heads", [
                    linear("key", width, width, output: sequence), linear("query", width, width, output: sequence),
                    linear("value", width, width, output: sequence), linear("proj", width, width, output: sequence),
                ]),
                layerNorm("ln2"),
                .container("mlp", kind: "Sequential", outputShape: sequence, [
                    linear("0", width, 4 * width, output: [batch, tokens, 4 * width]),
                    ArchitectureNode(name: "1", kind: "GELU", outputShape: [batch, tokens, 4 * width]),
                    linear("2", 4 * width, width, output: sequence),
                    ArchitectureNode(name: "3", kind: "Dropout", outputShape: sequence, detail: "p=0.1"),
                ]),
            ])
        }
        return .container("gpt", kind: "GPT", outputShape: [batch, tokens, vocabulary], [
            .container("embeddings", kind: "Sum", outputShape: sequence, flow: .parallel, [
                ArchitectureNode(name: "tok_emb", kind: "Embedding", parameterCount: vocabulary * width,
                                 outputShape: sequence, detail: "\(vocabulary)→\(width)"),
                ArchitectureNode(name: "pos_emb", kind: "Parameter", parameterCount: tokens * width,
                                 outputShape: [1, tokens, width]),
            ]),
            ArchitectureNode(name: "drop", kind: "Dropout", outputShape: sequence, detail: "p=0.1"),
            .container("blocks", kind: "Sequential", outputShape: sequence, (0..<layers).map(block)),
            layerNorm("ln_f"),
            linear("head", width, vocabulary, bias: false, output: [batch, tokens, vocabulary]),
        ])
    }
}
