import Foundation
import Testing

@Suite("Chapter 02", .serialized) struct Chapter02Tests {
    @Test func quickRunWritesItsFiguresAndSummary() throws {
        let folders = ChapterFolders("02"), out = folders.out
        defer { folders.remove() }
        let run = try #require(try ChapterRunner.run("02-vqvae", folders.quickArguments),
                               "02-vqvae is not built: run swift build first")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for heading in ["## 1. The data", "## 4. Training", "## 5. Reconstructions", "## 8. f = 4 against f = 8"] {
            #expect(run.stdout.contains(heading), "missing \(heading)")
        }
        let metrics = try folders.metrics()
        for key in ["psnr", "ssim", "codebook_usage", "perplexity", "f", "n_embed", "steps", "seconds", "images_per_second",
                    "recipe", "recipes", "reference_recipe_psnr", "reference_recipe_codebook_usage"] {
            #expect(metrics[key] != nil, "summary.json lacks \(key)")
        }
        for figure in ["data.png", "reconstructions.png", "codes.png", "losses.svg", "usage.svg", "diagrams/vqmodel.svg",
                       "recipes.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(figure).path), "missing \(figure)")
        }
        // A second run loads the models from the cache instead of training them.
        let again = try #require(try ChapterRunner.run("02-vqvae", folders.quickArguments))
        #expect(again.status == 0)
        #expect(again.stdout.contains("loaded 02-vqvae-f4 from cache"))
    }

    @Test func impossibleRecipeOptionsAreOneClearError() throws {
        let out = ChapterRunner.temporaryFolder("02-options")
        defer { try? FileManager.default.removeItem(at: out) }
        for (arguments, named) in [(["--f", "3"], "--f"), (["--resolution", "10"], "--resolution"),
                                   (["--crops", "native"], "--crops native"), (["--recipe", "mine"], "mine")] {
            let run = try #require(try ChapterRunner.run("02-vqvae", ["--quick", "--out", out.path, "--cache", out.path] + arguments))
            #expect(run.status != 0)
            let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            #expect(errors.count == 1 && errors[0].contains(named), "\(arguments): \(run.stderr)")
        }
    }

    @Test func aMissingDataFolderIsOneClearError() throws {
        let out = ChapterRunner.temporaryFolder("02-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try #require(try ChapterRunner.run("02-vqvae", ["--quick", "--data", "/nonexistent/photos",
                                                                  "--out", out.path, "--cache", out.path]))
        #expect(run.status != 0)
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("/nonexistent/photos"), "stderr: \(run.stderr)")
    }
}
