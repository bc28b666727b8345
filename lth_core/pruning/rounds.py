"""One IMP round at the config's granularity: single weights (lth_core.pruning.magnitude) or
whole units (lth_core.pruning.structured)."""
from __future__ import annotations

from lth_core.config import PruningConfig
from lth_core.pruning.magnitude import prune_weights
from lth_core.pruning.masks import Masks
from lth_core.pruning.structured import prune_units


def prune(weights: dict, masks: Masks, kinds: dict[str, str], cfg: PruningConfig,
          init: dict | None = None, criterion: str | None = None) -> Masks:
    """The next mask from trained weights (and, for criteria other than magnitude, the weights
    training started from: init) and the current mask. criterion overrides cfg.criterion (a run's
    extra criteria arms)."""
    if cfg.granularity != "unstructured":
        return prune_units(weights, masks, kinds, cfg, init, criterion or cfg.criterion)
    return prune_weights(weights, masks, kinds, cfg, init, criterion)
