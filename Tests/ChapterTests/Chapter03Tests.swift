import Foundation
import Testing

@Suite("Chapter 03", .serialized) struct Chapter03Tests {
    @Test func quickRunWritesItsFiguresAndSummary() throws {
        let folders = ChapterFolders("03"), out = folders.out, cache = folders.cache
        defer { folders.remove() }
        let run = try #require(try ChapterRunner.run("03-vqgan", folders.quickArguments),
                               "03-vqgan is not built: run swift build first")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for heading in ["## 1. The data", "## 2. Why L1 and L2 blur", "## 3. The perceptual metric",
                        "## 4. The patch discriminator", "## 5. Training both, for the same time",
                        "## 7. VQ-VAE against VQGAN", "## 8. A higher compression: f = 8"] {
            #expect(run.stdout.contains(heading), "missing \(heading)")
        }
        #expect(run.stdout.contains("VQ-VAE") && run.stdout.contains("VQGAN"))
        let metrics = try folders.metrics()
        for model in ["vqvae", "vqgan"] {
            for f in [4, 8] {
                for metric in ["psnr", "ssim", "perceptual", "frechet", "sharpness", "codebook_usage"] {
                    #expect(metrics["\(model)_f\(f)_\(metric)"] is Double, "summary.json lacks \(model)_f\(f)_\(metric)")
                }
            }
        }
        for key in ["receptive_field", "discriminator_parameters", "feature_network_pixel_accuracy", "lambda_median",
                    "disc_start", "metric_blurred_perceptual", "blur_l2_of_mean"] {
            #expect(metrics[key] != nil, "summary.json lacks \(key)")
        }
        let models = try #require(metrics["models"] as? [[String: Any]])
        #expect(models.count == 4)
        for figure in ["blur.png", "metric.png", "receptive-field.png", "diagrams/discriminator.svg", "losses.svg",
                       "lambda.svg", "discriminator.svg", "comparison.png", "zoom.png", "patches.png", "f8.png", "scores.svg",
                       "sharpness.svg",
                       "frechet.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(figure).path), "missing \(figure)")
        }
        // The VQGAN is in the cache for chapter 04, and a second run loads every model from it.
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        #expect(cached.contains { $0.hasPrefix("03-vqgan-f4-") && $0.hasSuffix(".safetensors") })
        let again = try #require(try ChapterRunner.run("03-vqgan", folders.quickArguments))
        #expect(again.status == 0)
        for name in ["03-feature-network", "03-loss-network", "03-vqvae-f4-warmup", "03-vqvae-f4", "03-vqgan-f4",
                     "03-vqvae-f8", "03-vqgan-f8"] {
            #expect(again.stdout.contains("loaded \(name) from cache"), "\(name) was not loaded from the cache")
        }
    }

    @Test func aMissingWeightsFileIsOneClearError() throws {
        let out = ChapterRunner.temporaryFolder("03-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try #require(try ChapterRunner.run("03-vqgan", ["--quick", "--vgg16", "/nonexistent/vgg16.safetensors",
                                                                  "--out", out.path, "--cache", out.path]))
        #expect(run.status != 0)
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("/nonexistent/vgg16.safetensors"), "stderr: \(run.stderr)")
    }
}
