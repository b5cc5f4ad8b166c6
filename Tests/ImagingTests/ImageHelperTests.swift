import Testing
import Tensors
import TestSupport
@testable import Imaging

@Suite struct ImageHelperTests {
    /// A [3, h, w] image filled with one value per channel.
    func solid(_ h: Int, _ w: Int, _ rgb: [Float]) -> Tensor {
        Tensor.make([3, h, w]) { b in for c in 0..<3 { for i in 0..<(h * w) { b[c * h * w + i] = rgb[c] } } }
    }

    @Test func gridShapeAndPlacement() {
        let images = (0..<5).map { k in solid(4, 6, [Float(k) / 10, 0, 0]) }
        let grid = ImageGrid(columns: 3, padding: 2, background: .black).compose(images)
        // rows · (H + p) + p = 2 · 6 + 2, columns · (W + p) + p = 3 · 8 + 2
        #expect(grid.shape == [3, 14, 26])
        for k in 0..<5 {
            let (top, left) = (2 + (k / 3) * 6, 2 + (k % 3) * 8)
            #expect(grid[0, top, left] == Float(k) / 10 && grid[0, top + 3, left + 5] == Float(k) / 10)
        }
        #expect(grid[0, 0, 0] == -1 && grid[0, 7, 10] == -1)  // padding
        #expect(grid[0, 9, 2 + 2 * 8] == -1)                   // the empty sixth cell
    }

    @Test func gridOfABatchMatchesGridOfItsImages() {
        let batch = seededUniform([4, 3, 5, 5], seed: 2)
        let items = (0..<4).map { batch.slice(axis: 0, $0..<($0 + 1)).reshaped([3, 5, 5]) }
        let grid = ImageGrid(columns: 2)
        #expect(grid.compose(batch: batch).scalars == grid.compose(items).scalars)
    }

    @Test func grayImagesAndSmallerImagesFitTheirCells() {
        let gray = Tensor(shape: [1, 2, 2], [0.5, 0.5, 0.5, 0.5])
        let big = solid(4, 4, [0, 0, 0])
        let grid = ImageGrid(columns: 2, padding: 0).compose([big, gray])
        #expect(grid.shape == [3, 4, 8])
        #expect(grid[0, 1, 5] == 0.5 && grid[2, 2, 6] == 0.5)  // centred: rows 1–2, columns 5–6
        #expect(grid[0, 0, 4] == 1)                            // white around it
    }

    @Test func sideBySideStrip() {
        let strip = sideBySide([solid(3, 2, [1, 0, 0]), solid(5, 4, [0, 1, 0])], padding: 1)
        #expect(strip.shape == [3, 7, 9])  // height 5 + 2, width 1 + 2 + 1 + 4 + 1
        #expect(strip[0, 1, 1] == 1 && strip[1, 1, 4] == 1 && strip[1, 5, 7] == 1)
        #expect(strip[0, 5, 1] == 1 && strip[1, 5, 1] == 1)  // background under the shorter image
    }

    @Test func nearestNeighbourUpscaling() {
        let image = Tensor(shape: [1, 2, 2], [1, 2, 3, 4])
        let big = upscaled(image, by: 3)
        #expect(big.shape == [1, 6, 6])
        #expect(big[0, 0, 0] == 1 && big[0, 2, 2] == 1 && big[0, 0, 3] == 2 && big[0, 5, 0] == 3 && big[0, 5, 5] == 4)
        #expect(upscaled(seededUniform([2, 3, 2, 2], seed: 1), by: 2).shape == [2, 3, 4, 4])
        #expect(upscaled(image, by: 1).scalars == image.scalars)
    }

    @Test func colorizedLabelsUseThePalette() {
        let picture = colorize(labels: [0, 1, 1, 25], width: 2, height: 2)
        #expect(picture.shape == [3, 2, 2])
        for (i, label) in [0, 1, 1, 25].enumerated() {
            let rgb = Palette.categorical.color(label).tensorValues
            #expect((0..<3).allSatisfy { picture[$0, i / 2, i % 2] == rgb[$0] })
        }
        #expect(Palette.categorical.color(3) == RGBColor(hex: 0xD1495B))
    }

    @Test func codeColorsAreStableDistinctAndInRange() {
        let colors = (0..<8192).map(Palette.codeColor)
        #expect(colors == (0..<8192).map(Palette.codeColor))
        #expect(Set(colors.prefix(1024).map(\.hex)).count > 1000)
        for i in 0..<1023 { #expect(colors[i] != colors[i + 1]) }
        #expect(colors.allSatisfy { [$0.red, $0.green, $0.blue].allSatisfy { $0 >= 0 && $0 <= 1 } })
        // Pleasant: neither near black nor near white.
        let brightness = colors.map { ($0.red + $0.green + $0.blue) / 3 }
        #expect(brightness.min()! > 0.15 && brightness.max()! < 0.95)
        let picture = colorize(codes: [5, 5, 700, 8191], width: 4, height: 1)
        #expect(picture[0, 0, 0] == picture[0, 0, 1] && picture[1, 0, 2] == Palette.codeColor(700).tensorValues[1])
        #expect(Palette.codeColor(-1) == RGBColor(gray: 0.5))
    }

    @Test func colorMapEndsAndInterpolation() {
        let map = ColorMap.viridisLike
        #expect(map.color(at: 0) == map.stops.first && map.color(at: 1) == map.stops.last)
        #expect(map.color(at: -5) == map.stops.first && map.color(at: 7) == map.stops.last)
        let mid = ColorMap.grays.color(at: 0.25)
        #expect(Swift.abs(mid.red - 0.25) < 1e-6)
        // Lightness rises along viridisLike.
        let luma = (0...20).map { t -> Float in
            let c = map.color(at: Double(t) / 20)
            return 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue
        }
        #expect(zip(luma, luma.dropFirst()).allSatisfy { $0 < $1 })
        let image = ColorMap.grays.image(Tensor(shape: [2, 2], [0, 1, 2, 4]))
        #expect(image.shape == [3, 2, 2] && image[0, 0, 0] == -1 && image[0, 1, 1] == 1 && image[0, 0, 1] == -0.5)
    }

    @Test func colorHexNotation() {
        #expect(RGBColor(hex: 0x3B6FB6).hex == "#3b6fb6")
        #expect(RGBColor.white.tensorValues == [1, 1, 1] && RGBColor.black.tensorValues == [-1, -1, -1])
    }
}
