import Testing
@testable import Taming

@Suite("Conditioning tokens in one shared vocabulary")
struct ConditioningTokensTests {
    static let sources: [Conditioning.Source] = [
        .unconditional, .sceneClass(classes: 5), .segmentation(codebookSize: 64, tokens: 16),
    ]

    @Test("conditioning tokens never collide with image codes and fit the vocabulary", arguments: sources)
    func offsetsDoNotCollide(source: Conditioning.Source) throws {
        let cond = Conditioning(source, imageVocabularySize: 100)
        #expect(cond.offset == 100 && cond.samplingLimit == 100)
        #expect(cond.vocabularySize == 100 + cond.conditioningVocabularySize)
        #expect(cond.conditioningTokens.lowerBound >= cond.imageVocabularySize)
        #expect(cond.conditioningTokens.upperBound == cond.vocabularySize)
        // Every conditioning value maps to a distinct token outside 0..<K_img, and back.
        var seen = Set<Int>()
        for value in 0..<cond.conditioningVocabularySize {
            let prefix: [Int]
            switch source {
            case .unconditional: prefix = try cond.startPrefix()
            case .sceneClass: prefix = try cond.prefix(sceneClass: value)
            case .segmentation: prefix = try cond.prefix(segmentationCodes: [Int](repeating: value, count: 16))
            }
            #expect(prefix.count == cond.prefixLength)
            #expect(prefix.allSatisfy { $0 >= 100 && $0 < cond.vocabularySize })
            #expect(prefix.allSatisfy { cond.conditioningValue(ofToken: $0) == value })
            seen.insert(prefix[0])
        }
        #expect(seen.count == cond.conditioningVocabularySize)
        #expect(cond.conditioningValue(ofToken: 99) == nil)
    }

    @Test("a sequence is [prefix; image], and only image tokens are targets")
    func trainingPairs() throws {
        let cond = Conditioning(.segmentation(codebookSize: 8, tokens: 3), imageVocabularySize: 10)
        #expect(cond.prefixLength == 3 && cond.vocabularySize == 18)
        let image = [4, 9, 0, 2]
        let sequence = try cond.sequence(prefix: cond.prefix(segmentationCodes: [7, 0, 3]), imageCodes: image)
        #expect(sequence == [17, 10, 13, 4, 9, 0, 2])
        #expect(cond.blockSize(imageTokens: image.count) == 6)
        let (inputs, targets) = cond.trainingPair(sequence)
        #expect(inputs == [17, 10, 13, 4, 9, 0])
        #expect(targets == [-1, -1, 4, 9, 0, 2])
        #expect(targets.filter { $0 != Conditioning.ignoredTarget } == image)
        #expect(cond.imageCodes(of: sequence) == image)

        let classes = Conditioning(.sceneClass(classes: 5), imageVocabularySize: 10)
        let pair = classes.trainingPair(try classes.sequence(prefix: classes.prefix(sceneClass: 4), imageCodes: image))
        #expect(pair.inputs == [14, 4, 9, 0] && pair.targets == image)   // one prefix token: nothing ignored
    }

    @Test("wrong classes, codes, prefixes and sources are errors")
    func errors() throws {
        let classes = Conditioning(.sceneClass(classes: 5), imageVocabularySize: 10)
        #expect(throws: ConditioningError.classOutOfRange(value: 5, classes: 5)) { try classes.prefix(sceneClass: 5) }
        #expect(throws: ConditioningError.classOutOfRange(value: -1, classes: 5)) { try classes.prefix(sceneClass: -1) }
        #expect(throws: ConditioningError.self) { try classes.startPrefix() }
        #expect(throws: ConditioningError.self) { try classes.prefix(segmentationCodes: [0]) }
        #expect(throws: ConditioningError.codeOutOfRange(code: 10, index: 1, codebookSize: 10)) {
            try classes.sequence(prefix: [12], imageCodes: [3, 10])
        }
        #expect(throws: ConditioningError.self) { try classes.sequence(prefix: [3], imageCodes: [3]) }   // an image code as prefix
        let maps = Conditioning(.segmentation(codebookSize: 8, tokens: 4), imageVocabularySize: 10)
        #expect(throws: ConditioningError.codeOutOfRange(code: 8, index: 3, codebookSize: 8)) {
            try maps.prefix(segmentationCodes: [0, 1, 2, 8])
        }
        #expect(throws: ConditioningError.self) { try maps.prefix(segmentationCodes: [0, 1, 2]) }
        #expect(throws: ConditioningError.self) { try maps.prefix(sceneClass: 0) }
    }
}
