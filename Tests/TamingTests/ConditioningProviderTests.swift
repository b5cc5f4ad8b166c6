import Testing
import Tensors
@testable import Taming

@Suite("Conditioning providers and the shared vocabulary")
struct ConditioningProviderTests {
    static let sources: [ConditioningProvider.Source] = [
        .unconditional, .sceneClass(classes: 5), .segmentation(codebookSize: 64, tokens: 16),
    ]

    @Test("conditioning tokens never collide with image codes and fit the vocabulary", arguments: sources)
    func offsetsDoNotCollide(source: ConditioningProvider.Source) throws {
        let provider = ConditioningProvider(source)
        let layout = provider.layout(codebookSize: 100, imageLength: 4)
        #expect(layout.vocabularySize == 100 + provider.conditioningValues)
        #expect(layout.prefixLength == provider.prefixLength)
        #expect(layout.blockSize == provider.prefixLength + 4 - 1)
        // Every conditioning value becomes a distinct token in 100 ..< V.
        var seen = Set<Int>()
        for value in 0..<provider.conditioningValues {
            let values: [Int]
            switch source {
            case .unconditional: values = try provider.startValues()
            case .sceneClass: values = try provider.values(sceneClass: value)
            case .segmentation: values = try provider.values(segmentationCodes: [Int](repeating: value, count: 16))
            }
            let sequence = layout.sequence(codes: [0, 99, 5, 7], conditioning: values)
            let prefix = Array(sequence.prefix(provider.prefixLength))
            #expect(prefix.allSatisfy { $0 >= 100 && $0 < layout.vocabularySize })
            #expect(layout.codes(of: sequence) == [0, 99, 5, 7])
            seen.insert(prefix[0])
        }
        #expect(seen.count == provider.conditioningValues)
    }

    @Test("a map's prefix is its cond-stage codes, and only image codes are trained")
    func segmentationPrefix() throws {
        var rng = RandomGenerator(seed: 2)
        var config = VQSegmentationModel.config(classes: 3, resolution: 8, downsampling: 4, codes: 6)
        config.channels = 4; config.zChannels = 4; config.embedDim = 4; config.attentionResolutions = []
        let stage = VQSegmentationModel(autoencoder: VQModel(config, rng: &rng))
        let provider = ConditioningProvider(segmentation: stage, height: 8, width: 8)
        #expect(provider.prefixLength == 4 && provider.conditioningValues == 6)
        let maps = [UInt8]((0..<128).map { UInt8($0 % 3) })
        let values = try provider.values(maps: maps, count: 2, height: 8, width: 8, stage: stage)
        #expect(values.count == 2 && values.allSatisfy { $0.count == 4 && $0.allSatisfy { $0 >= 0 && $0 < 6 } })
        #expect(values.flatMap { $0 } == (try stage.codes(for: maps, batch: 2, height: 8, width: 8)))

        let layout = provider.layout(codebookSize: 10, imageLength: 3)
        let sequence = layout.sequence(codes: [4, 9, 0], conditioning: [5, 0, 3, 1])
        #expect(sequence == [15, 10, 13, 11, 4, 9, 0])
        // The two-stage model scores the image codes only: the first P − 1 targets are ignored.
        let gpt = GPT(TwoStageModel.transformerConfig(layout: layout, layers: 1, heads: 1, embeddingDim: 8), rng: &rng)
        var imageConfig = AutoencoderConfig(channels: 4, channelMultipliers: [1, 2], resBlocksPerLevel: 1,
                                            attentionResolutions: [], zChannels: 4, embedDim: 4, codebookSize: 10,
                                            resolution: 4)
        imageConfig.normGroups = 1
        let model = TwoStageModel(firstStage: CodeTokenizer(autoencoder: VQModel(imageConfig, rng: &rng)), transformer: gpt,
                                  layout: layout, grid: (1, 3))
        let (inputs, targets) = model.inputsAndTargets([sequence], rng: &rng)
        #expect(inputs == [[15, 10, 13, 11, 4, 9]])
        #expect(targets == [[-1, -1, -1, 4, 9, 0]])
    }

    @Test("wrong classes, codes and sources are errors")
    func errors() throws {
        let classes = ConditioningProvider(.sceneClass(classes: 5))
        #expect(throws: ConditioningError.classOutOfRange(value: 5, classes: 5)) { try classes.values(sceneClass: 5) }
        #expect(throws: ConditioningError.classOutOfRange(value: -1, classes: 5)) { try classes.values(sceneClass: -1) }
        #expect(throws: ConditioningError.self) { try classes.startValues() }
        #expect(throws: ConditioningError.self) { try classes.values(segmentationCodes: [0]) }
        let maps = ConditioningProvider(.segmentation(codebookSize: 8, tokens: 4))
        #expect(throws: ConditioningError.codeOutOfRange(code: 8, index: 3, codebookSize: 8)) {
            try maps.values(segmentationCodes: [0, 1, 2, 8])
        }
        #expect(throws: ConditioningError.self) { try maps.values(segmentationCodes: [0, 1, 2]) }
        #expect(throws: ConditioningError.self) { try maps.values(sceneClass: 0) }
        #expect(try ConditioningProvider(.unconditional).startValues() == [0])
    }
}
