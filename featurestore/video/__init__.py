"""Video in: the reader interface (`reader`), the PyAV reader screentime decodes with (`pyav`), the sampling clock
(`clock`), path checks and fingerprints (`paths`), where a stored video's source is now (`sources`), and OpenCV's
reader as a reference for the tests (`opencv`)."""
