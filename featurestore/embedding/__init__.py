"""Frames in, feature vectors out: the embedding config and its identity (`config`), preprocessing, VGG16 on a
Keras backend. `config` imports neither OpenCV nor Keras, so the store and the classifiers can use it cheaply."""
