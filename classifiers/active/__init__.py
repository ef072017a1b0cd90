"""Labelling less: the measures and the choice of spans worth labelling (`spans`), and the refitted fold models
whose disagreement is one of the measures (`committee`)."""
