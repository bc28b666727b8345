"""Several networks of one architecture trained as one computation (torch.func + vmap).

A level's networks are small next to a GPU; stacking their weights and running forward,
backward and the optimizer once for all fills it far better. Each network keeps its own
weights, mask, optimizer state (Adam and SGD are element-wise) and minibatch order, so the
numbers match one-at-a-time training up to float rounding (tested on the CPU). Networks with
BatchNorm buffers, dropout or augmented inputs are not stacked (`can_stack`).
"""
from __future__ import annotations

import copy
from collections import defaultdict

import torch
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F

from lth_core.pruning.masks import apply_
from lth_core.models.architectures import build, has_buffers
from lth_core.lottery.tasks import TaskSpec, get_data, live_writer
from lth_core.training.loop import (History, cpu_copy, eval_chunk, is_eval_step, make_optimizer, measurements,
                               minibatches, set_lr, splits)


def _model(spec: TaskSpec, device) -> torch.nn.Module:
    model = build(spec.arch, seed=0, dropout=spec.dropout)
    model.load_state_dict(spec.init_state)
    return apply_(model.to(device), spec.masks)


def can_stack(spec: TaskSpec) -> bool:
    """Stackable: no buffers (BatchNorm running statistics), no dropout, no augmentation (each
    network's crops would need their own draws; the one-network loop has them)."""
    return spec.dropout == 0 and not spec.training.augment and not has_buffers(spec.arch)


def group_key(s: TaskSpec) -> tuple:
    """What networks must share to train in one stacked loop."""
    return (s.arch, s.dataset, s.data_dir, s.device, s.training, s.start_iteration, s.snapshot_at)


def groups(specs: dict) -> list[list]:
    """Task keys grouped so that each group can train as one stacked computation (same
    group_key). Unstackable tasks form groups of one."""
    out, by_key = [], defaultdict(list)
    for task, s in specs.items():
        if can_stack(s):
            by_key[group_key(s)].append(task)
        else:
            out.append([task])
    return list(by_key.values()) + out


def _stacked_eval(net, params, x, y, chunk):
    """(summed loss, correct count) per network, as device tensors of shape [networks]."""
    loss = correct = 0
    for i in range(0, len(x), chunk):
        out = net(params, x[i:i + chunk])                      # [networks, chunk, classes]
        yc = y[i:i + chunk].expand(out.shape[0], -1)
        loss = loss + F.cross_entropy(out.transpose(1, 2), yc, reduction="none").sum(1)
        correct = correct + (out.argmax(-1) == yc).sum(1)
    return loss, correct


def execute_stacked(specs: list[TaskSpec]) -> list[dict]:
    """Train the networks of `specs` (one group from `groups`) together; one result per spec,
    in order, shaped like `tasks.execute`'s. Results come when the whole group is done."""
    first, cfg = specs[0], specs[0].training
    if len({group_key(s) for s in specs}) > 1 or not all(map(can_stack, specs)):
        raise ValueError("execute_stacked: these networks cannot share one loop; group them with groups()")
    data = get_data(first.dataset, first.data_dir, first.device)
    device, bs, k = data.x_train.device, cfg.batch_size, len(specs)
    models = [_model(s, device) for s in specs]
    params, _ = stack_module_state(models)                    # {name: [networks, ...]} leaves
    skeleton = copy.deepcopy(models[0]).to("meta")
    del models

    def forward(p, x):
        return functional_call(skeleton, p, (x,))

    train_net, eval_net = vmap(forward), vmap(forward, in_dims=(0, None))
    masks = [(params[n], torch.stack([s.masks[n] for s in specs]).to(device, params[n].dtype))
             for n in first.masks]
    opt = make_optimizer(params.values(), cfg)
    streams = [minibatches(len(data.x_train), bs, s.data_seed, device) for s in specs]
    histories, writers = [History() for _ in specs], [live_writer(s) for s in specs]
    snapshots: list = [None] * k
    chunk = eval_chunk(device, k)

    def weights(i):
        return cpu_copy({n: v[i] for n, v in params.items()})

    if first.snapshot_at == first.start_iteration:
        snapshots = [weights(i) for i in range(k)]
    for it in range(first.start_iteration, cfg.iterations):
        idx = torch.stack([next(s) for s in streams])        # [networks, batch]
        xb, yb = data.x_train[idx], data.y_train[idx]
        set_lr(opt, cfg, it)
        out = train_net(params, xb)                          # [networks, batch, classes]
        loss = F.cross_entropy(out.transpose(1, 2), yb, reduction="sum") / bs  # sum of the mean losses
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p, m in masks:
            p.grad.mul_(m)
        opt.step()
        step = it + 1
        if first.snapshot_at is not None and step == first.snapshot_at:
            snapshots = [weights(i) for i in range(k)]
        if is_eval_step(step, cfg):
            with torch.no_grad():
                sums = [_stacked_eval(eval_net, params, x, y, chunk) for x, y in splits(data)]
            # [networks, splits, (loss, correct)], one host synchronisation
            vals = torch.stack([torch.stack([l.float(), c.float()], -1) for l, c in sums], 1).tolist()
            for i, h in enumerate(histories):
                point = h.record(step, *measurements(data, vals[i]))
                if writers[i] is not None:
                    writers[i](step, point)
    return [{"key": s.key, "history": h.to_dict(), "snapshot": snapshots[i],
             "final": weights(i) if s.want_final else None} for i, (s, h) in enumerate(zip(specs, histories))]
