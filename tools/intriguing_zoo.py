"""Load a model exported by `intriguing export` into PyTorch.

    python3 tools/intriguing_zoo.py FOLDER [--mnist DIR]

FOLDER holds model.safetensors (a state dict under PyTorch's layer names) and model.json (the architecture).
`load(FOLDER)` returns a torch.nn.Module in eval mode that takes images in [0, 1], shape [N, C, H, W] or [N, C*H*W],
and returns logits. With --mnist DIR (a folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte), the script
prints the model's error on the 10,000 test images, which should equal the testError recorded in model.json.

Uses the `safetensors` package when it is installed, else reads the file itself (the format is a length, a JSON
header and raw little-endian floats).
"""
import json
import struct
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


class Softmax(nn.Module):
    """fc10-*: softmax regression on the pixels."""

    def __init__(self, features, classes):
        super().__init__()
        self.output = nn.Linear(features, classes)

    def forward(self, x):
        return self.output(x.flatten(1))


class SigmoidMlp(nn.Module):
    """fc100-100-10, fc200-200-10, fc123-456-10: two sigmoid hidden layers."""

    def __init__(self, features, hidden1, hidden2, classes):
        super().__init__()
        self.hidden1 = nn.Linear(features, hidden1)
        self.hidden2 = nn.Linear(hidden1, hidden2)
        self.output = nn.Linear(hidden2, classes)

    def forward(self, x):
        x = torch.sigmoid(self.hidden1(x.flatten(1)))
        return self.output(torch.sigmoid(self.hidden2(x)))


class SparseAutoencoder(nn.Module):
    """ae400-10: a sigmoid encoder (pre-trained as a sparse autoencoder) and a softmax layer."""

    def __init__(self, features, code, classes):
        super().__init__()
        self.encoder = nn.Linear(features, code)
        self.output = nn.Linear(code, classes)

    def forward(self, x):
        return self.output(torch.sigmoid(self.encoder(x.flatten(1))))


class ConvNet(nn.Module):
    """conv: conv5x5-ReLU-maxpool2, conv5x5-ReLU-maxpool2, fc-ReLU, linear (padding 2 keeps the size)."""

    def __init__(self, shape, conv1, conv2, fc, classes):
        super().__init__()
        self.shape = shape
        channels, height, width = shape
        self.conv1 = nn.Conv2d(channels, conv1, 5, padding=2)
        self.conv2 = nn.Conv2d(conv1, conv2, 5, padding=2)
        self.fc1 = nn.Linear(conv2 * (height // 4) * (width // 4), fc)
        self.output = nn.Linear(fc, classes)

    def forward(self, x):
        x = x.reshape(-1, *self.shape)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.output(F.relu(self.fc1(x.flatten(1))))


def read_safetensors(path):
    try:
        from safetensors.torch import load_file
        return load_file(str(path))
    except ImportError:
        data = Path(path).read_bytes()
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + length])
        start = 8 + length
        tensors = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            if entry["dtype"] != "F32":
                raise ValueError(f"{path}: tensor {name} is {entry['dtype']}; this reader knows F32 only")
            begin, end = entry["data_offsets"]
            values = torch.frombuffer(bytearray(data[start + begin:start + end]), dtype=torch.float32)
            tensors[name] = values.reshape(entry["shape"]).clone()
        return tensors


def build(spec, state):
    """The module for model.json's "kind", sized from the state dict's shapes."""
    kind, shape, classes = spec["kind"], spec["inputShape"], spec["classes"]
    features = 1
    for size in shape:
        features *= size
    if kind == "softmax":
        return Softmax(features, classes)
    if kind == "sigmoid-mlp":
        return SigmoidMlp(features, state["hidden1.weight"].shape[0], state["hidden2.weight"].shape[0], classes)
    if kind == "sparse-autoencoder":
        return SparseAutoencoder(features, state["encoder.weight"].shape[0], classes)
    if kind == "convnet":
        return ConvNet(shape, state["conv1.weight"].shape[0], state["conv2.weight"].shape[0], state["fc1.weight"].shape[0], classes)
    raise ValueError(f"unknown kind {kind!r} in model.json")


def load(folder):
    folder = Path(folder)
    spec = json.loads((folder / "model.json").read_text())
    state = read_safetensors(folder / "model.safetensors")
    model = build(spec, state)
    model.load_state_dict(state)
    return model.eval()


def read_idx(path, offset):
    return Path(path).read_bytes()[offset:]


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    folder = Path(argv[0])
    model = load(folder)
    spec = json.loads((folder / "model.json").read_text())
    print(f"{spec['architecture']}: {sum(p.numel() for p in model.parameters())} parameters, input {spec['inputShape']}")
    if "--mnist" in argv:
        data = Path(argv[argv.index("--mnist") + 1])
        pixels = torch.tensor(list(read_idx(data / "t10k-images-idx3-ubyte", 16)), dtype=torch.float32) / 255
        labels = torch.tensor(list(read_idx(data / "t10k-labels-idx1-ubyte", 8)), dtype=torch.int64)
        with torch.no_grad():
            predicted = model(pixels.reshape(len(labels), *spec["inputShape"])).argmax(1)
        error = (predicted != labels).double().mean().item()
        recorded = spec.get("trainedOn", {}).get("testError")
        print(f"test error {error:.4%} on {len(labels)} images (recorded when exported: {recorded:.4%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
