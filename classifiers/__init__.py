"""Classifiers over stored VGG16 features: registry, leakage-free comparison, scoring."""
