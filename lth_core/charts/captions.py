"""What to look for in each chart of a run, in plain words, for the exported report
(lth_core.report.export). Plain strings, no markup beyond *emphasis*, no Streamlit."""
from __future__ import annotations

ACCURACY = ("Read from 100% remaining on the left towards smaller networks on the right. A ticket line at or "
            "above the dotted dense line means the pruned network learns as well as the full one. A control "
            "falling below the ticket shows what the ticket needs: its own initial weights (re-init) or its own "
            "connections (random pruning). The bands show the spread (min to max over trials); whether a gap counts "
            "is decided by the paired test in the claims table, not by eye.")
EARLY_STOP = ("The iteration of lowest validation loss: lower means faster learning, but only for filled "
              "markers. A hollow marker, or a point in the grey band (the last 10% of training), is censored: most "
              "networks were still improving, so the point shows the budget, not the speed.")
CURVES = ("Test accuracy during training at a few sizes; the grey dotted line is the dense network. A winning "
          "ticket climbs at least as fast and as high; the same connections with fresh random weights (dashed) "
          "climb slower and level off lower, most clearly at small sizes.")
GAP = ("Dotted lines: accuracy on training examples; solid: on unseen test examples. The right panel is the gap "
       "between them: a smaller gap means the network generalises better.")
NUMBERS = ("Means over trials (min and max beside them); test accuracy is read at the early-stopping iteration "
           "(minimum validation loss), as in the paper.")
CLAIMS = ("The paper's claims measured on this run. Verdicts: holds, does not hold, unclear (the trials do not "
          "separate the effect from noise), too few trials to tell, not measurable with this budget (most networks "
          "were still improving when training ended), or not comparable (the paper's premise is not met).")

CHARTS = {"accuracy": ACCURACY, "early-stop": EARLY_STOP, "curves": CURVES, "gap": GAP}
