import Testing
import Tensors
@testable import Taming

@Suite("VQ recipes and their cost")
struct VQRecipeTests {
    @Test("multiply–adds of a tiny autoencoder, counted by hand")
    func multiplyAddsByHand() {
        let config = AutoencoderConfig(channels: 4, channelMultipliers: [1], resBlocksPerLevel: 1,
                                       attentionResolutions: [], zChannels: 2, embedDim: 2, codebookSize: 3,
                                       resolution: 4)
        // 16 positions. conv_in 3→4: 16·4·3·9 = 1728; a 4→4 ResnetBlock: 2·16·4·4·9 = 4608;
        // mid attention: 4·16·16 + 2·16·16·4 = 3072; conv_out 4→2: 1152; quant and post-quant
        // convs: 64 each; search: 16·3·2 = 96; decoder conv_in 2→4: 1152; two ResnetBlocks in the
        // decoder's level; conv_out 4→3: 1728.
        let encoder = 1728 + 4608 + (4608 + 3072 + 4608) + 1152
        let middle = 64 + 96 + 64
        let decoder = 1152 + (4608 + 3072 + 4608) + 2 * 4608 + 1728
        #expect(config.multiplyAddsPerImage == Double(encoder + middle + decoder))
        // The patch shortcut at f = 1: a 1×1 conv 3→2 (16·2·3 = 96) and a 3×3 conv 2→3 (864).
        var shortcut = config
        shortcut.patchShortcut = true
        #expect(shortcut.multiplyAddsPerImage == Double(encoder + middle + decoder + 96 + 864))
    }

    @Test("the two recipes build, run, and differ as documented")
    func recipes() {
        let reference = VQRecipe.named(.reference), workbook = VQRecipe.named(.workbook)
        #expect(reference.autoencoder.channels == 64 && reference.autoencoder.embedDim == 64)
        #expect(reference.autoencoder.channelMultipliers == [1, 2, 2] && reference.autoencoder.downsamplingFactor == 4)
        #expect(reference.training.codebook == .reference && reference.training.learningRate == 2e-4)
        #expect(reference.training.finalLearningRateFraction == 1)
        #expect(workbook.autoencoder.channels == 16 && workbook.autoencoder.normGroups == 1)
        #expect(workbook.autoencoder.patchShortcut && !reference.autoencoder.patchShortcut)
        #expect(workbook.training.codebook.kMeansInit && workbook.training.reconstruction == .l2)
        // A quarter of every width: about a sixteenth of the convolutions' work.
        let ratio = reference.autoencoder.multiplyAddsPerImage / workbook.autoencoder.multiplyAddsPerImage
        #expect(ratio > 12 && ratio < 16.5, "ratio \(ratio)")
        let f8 = VQRecipe.named(.workbook, resolution: 32, downsampling: 8)
        #expect(f8.autoencoder.channelMultipliers == [1, 2, 2, 2] && f8.autoencoder.latentResolution == 4)
        var rng = RandomGenerator(seed: 1)
        let model = VQModel(VQRecipe.named(.workbook, resolution: 16, codes: 16).autoencoder, rng: &rng)
        let out = withNoGrad { model(Tensor.zeros([1, 3, 16, 16])) }
        #expect(out.reconstruction.shape == [1, 3, 16, 16])
    }
}
