"""Each class's colour, the same in the report and the timeline PNG: matplotlib's tab10 up to 10 classes, tab20 up
to 20, then tab20 and tab20b (40 distinct colours; only beyond 40 classes does a colour come round again)."""

from __future__ import annotations

from typing import Sequence

TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
TAB20 = ("#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
         "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5")
TAB20B = ("#393b79", "#5254a3", "#6b6ecf", "#9c9ede", "#637939", "#8ca252", "#b5cf6b", "#cedb9c", "#8c6d31", "#bd9e39",
          "#e7ba52", "#e7cb94", "#843c39", "#ad494a", "#d6616b", "#e7969c", "#7b4173", "#a55194", "#ce6dbd", "#de9ed6")


def palette(n_classes: int) -> tuple[str, ...]:
    """The colours (hex) for `n_classes` classes, in class order: tab10, tab20, or tab20 then tab20b."""
    return TAB10 if n_classes <= len(TAB10) else TAB20 if n_classes <= len(TAB20) else TAB20 + TAB20B


def class_colours(classes: Sequence[str]) -> dict[str, str]:
    """class -> hex colour, by its place in `classes` (keep the model's order so a class keeps its colour)."""
    colours = palette(len(classes))
    return {c: colours[i % len(colours)] for i, c in enumerate(classes)}
