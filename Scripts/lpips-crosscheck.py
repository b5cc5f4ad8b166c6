"""Fixtures for the workbook's cross-check of its LPIPS against the lpips package (PerceptualLossTests,
"matchesTheLPIPSPackage"). Needs `pip install torch torchvision lpips safetensors`; no download: the
VGG16 is seeded random (the ImageNet weights change the numbers, not the computation), and the
learned "lin" weights are the ones the lpips package ships, converted as the README shows.

    python3 Scripts/lpips-crosscheck.py DIR [--photo PNG]
    LPIPS_CHECK_DIR=DIR swift test --filter matchesTheLPIPSPackage

DIR receives vgg16-features.safetensors, lpips-vgg-lin.safetensors, pairs.safetensors (x and y,
[4, 3, 64, 64] in [-1, 1]) and expected.json (the package's distances for each pair, with and
without the lin weights)."""
import argparse, json, os
import numpy as np, torch, torch.nn.functional as F, lpips
from safetensors.torch import save_file

ap = argparse.ArgumentParser()
ap.add_argument("dir"); ap.add_argument("--photo", help="a PNG of at least 64×64 to crop the first pairs from")
args = ap.parse_args()
os.makedirs(args.dir, exist_ok=True)
torch.manual_seed(0)

model = lpips.LPIPS(net="vgg", pretrained=True, pnet_rand=True, verbose=False).eval()
# lpips keeps torchvision's layer indices inside its slices: net.slice2.5.weight is features.5.weight.
features = {f"features.{name.split('.')[1]}.{name.split('.')[2]}": t.float().contiguous()
            for name, t in model.net.state_dict().items()}
save_file(features, os.path.join(args.dir, "vgg16-features.safetensors"))

# The README's recipe for the lin file.
path = os.path.join(os.path.dirname(lpips.__file__), "weights", "v0.1", "vgg.pth")
state = torch.load(path, map_location="cpu")
lin = {k.split(".")[0] + ".model.1.weight": v.float().contiguous()
       for k, v in state.items() if k.startswith("lin") and k.endswith("weight")}
assert sorted(lin) == [f"lin{i}.model.1.weight" for i in range(5)], sorted(state)
save_file(lin, os.path.join(args.dir, "lpips-vgg-lin.safetensors"))

# Pairs: a picture against its 3×3 blur and against added noise, then two pairs of uniform noise.
if args.photo:
    from PIL import Image
    rgb = np.asarray(Image.open(args.photo).convert("RGB"), dtype=np.float32)
    picture = torch.from_numpy(rgb[:64, :64].copy()).permute(2, 0, 1)[None] / 127.5 - 1
else:
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="ij")
    picture = torch.stack([torch.sin(6 * xx + 2 * yy), xx * yy, torch.cos(9 * yy)])[None].clamp(-1, 1)
blurred = F.avg_pool2d(F.pad(picture, (1, 1, 1, 1), mode="replicate"), 3, 1)
noisy = (picture + 0.2 * torch.randn_like(picture)).clamp(-1, 1)
r1, r2 = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
x, y = torch.cat([picture, picture, r1]), torch.cat([blurred, noisy, r2])
save_file({"x": x.contiguous(), "y": y.contiguous()}, os.path.join(args.dir, "pairs.safetensors"))

baseline = lpips.LPIPS(net="vgg", lpips=False, pnet_rand=True, verbose=False).eval()
baseline.net.load_state_dict(model.net.state_dict())
with torch.no_grad():
    expected = {"lpips": model(x, y).flatten().tolist(), "baseline": baseline(x, y).flatten().tolist()}
with open(os.path.join(args.dir, "expected.json"), "w") as f:
    json.dump(expected, f)
print(json.dumps(expected))
