"""What a saved model runs, in order: per-video stages (`stages`), the classifier (`estimators`), smoothing
(`smoothing`), the labels rule (`decision`), screen time (`timeline`, `presence`) and intervals (`intervals`),
all behind `model.SavedModel.predict_video`; its file (`persist`, `modelfile`). Nothing here knows labels files
or cross-validation."""
