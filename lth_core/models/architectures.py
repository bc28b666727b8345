"""Architecture registry: the paper's networks, built with Gaussian Glorot init, and your own (models.custom).

Prunable weights are the `.weight` of every Linear and Conv layer; biases and
batch-norm parameters are never pruned. The last Linear layer is the output
layer (the paper prunes it at half the fc rate). Your own model may name its
prunable weights instead (custom.PRUNABLE_ATTR).
"""
from __future__ import annotations

import torch
from torch import nn

from lth_core.models import custom
from lth_core.registry import get_arch_info


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _convnet(channels: list[int], dropout: float) -> nn.Sequential:
    """Conv-2/4/6: pairs of 3x3 convs, each pair followed by 2x2 max-pool; fc 256-256-10."""
    layers: list[nn.Module] = []
    c_in, size = 3, 32
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
        c_in = c
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2))
            size //= 2
    head = _mlp([c_in * size * size, 256, 256, 10], dropout)
    return nn.Sequential(*layers, *head)


def _vgg19() -> nn.Sequential:
    plan = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
            512, 512, 512, 512, "M", 512, 512, 512, 512]
    layers: list[nn.Module] = []
    c_in = 3
    for v in plan:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
            c_in = v
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class _CifarResNet(nn.Module):
    """The paper's 'Resnet-18': 16-32-64 channels, 3 stages of 3 basic blocks (~271K weights)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks, c_in = [], 16
        for c, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(_Block(c_in, c, stride if i == 0 else 1))
                c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(torch.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


_BUILDERS = {
    "mlp1d": lambda d: _mlp([40, 300, 300, 10], d),
    "lenet300": lambda d: _mlp([784, 300, 100, 10], d),
    "conv2": lambda d: _convnet([64, 64], d),
    "conv4": lambda d: _convnet([64, 64, 128, 128], d),
    "conv6": lambda d: _convnet([64, 64, 128, 128, 256, 256], d),
    "vgg19": lambda d: _vgg19(),
    "resnet18": lambda d: _CifarResNet(),
}


def glorot_init_(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Gaussian Glorot (Xavier normal) weights, zero biases, drawn from `generator`."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_out, fan_in = m.weight.shape[0], m.weight[0].numel()
                rf = m.weight[0, 0].numel()
                std = (2.0 / (fan_in + fan_out * rf)) ** 0.5
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * std)
                if m.bias is not None:
                    m.bias.zero_()
    return model


def build(arch: str, seed: int, dropout: float = 0.0) -> nn.Module:
    """A freshly initialised network (on the CPU) whose weights depend only on `seed`."""
    if get_arch_info(arch).custom:  # (raises a ValueError listing the valid names) your factory draws its own init
        return custom.build(arch, seed)
    model = _BUILDERS[arch](dropout)
    return glorot_init_(model, torch.Generator().manual_seed(int(seed)))


def blueprint(arch: str) -> nn.Module:
    """The network's structure for counting and shapes: built-ins without real weights (meta device; call
    to_empty for storage), your own model built from seed 0."""
    if get_arch_info(arch).custom:
        return custom.build(arch, 0)
    with torch.device("meta"):
        return _BUILDERS[arch](0.0)


def prunable_layers(model: nn.Module) -> dict[str, str]:
    """Ordered {state_dict key of a prunable weight: 'conv' | 'fc' | 'output'}: by default every Linear and
    Conv layer's weight, the last Linear one the output layer; your own model may name its own
    (custom.PRUNABLE_ATTR)."""
    chosen = getattr(model, custom.PRUNABLE_ATTR, None)
    return _default_layers(model) if chosen is None else _named_layers(model, list(chosen))


def _default_layers(model: nn.Module) -> dict[str, str]:
    """Every Linear and Conv layer's weight, in module order; the last Linear one is the output layer."""
    names: dict[str, str] = {}
    last_linear = None
    for mod_name, m in model.named_modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            names[f"{mod_name}.weight"] = "conv"
        elif isinstance(m, nn.Linear):
            names[f"{mod_name}.weight"] = "fc"
            last_linear = f"{mod_name}.weight"
    if last_linear is not None:
        names[last_linear] = "output"
    return names


def _named_layers(model: nn.Module, chosen: list) -> dict[str, str]:
    """prunable_layers for the weights a model names: each keeps the kind the default gives it (its layer's
    type: conv, fc, or output for the last Linear layer), 'fc' for any other parameter. ValueError names the
    model's parameters when a name is not one."""
    params = dict(model.named_parameters())
    bad = [n for n in chosen if n not in params]
    if bad or not chosen:
        raise ValueError(f"{custom.PRUNABLE_ATTR}: {bad[0] if bad else 'none'!r} is not a parameter of the model; "
                         f"allowed: {', '.join(params)}")
    default = _default_layers(model)
    return {n: default.get(n, "fc") for n in chosen}


def layer_sizes(arch: str) -> dict[str, tuple[str, int]]:
    """{weight name: (kind, number of weights)} without allocating real weights (built-in archs)."""
    model = blueprint(arch)
    params = dict(model.named_parameters())
    return {name: (kind, params[name].numel()) for name, kind in prunable_layers(model).items()}


def has_buffers(arch: str) -> bool:
    """Whether the architecture keeps buffers (BatchNorm running statistics); no real weights made."""
    return bool(list(blueprint(arch).buffers()))
