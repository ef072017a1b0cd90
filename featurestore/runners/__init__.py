"""Running the embedding work: a collection of videos (`collection`), each gathered and checkpointed until it is
whole (`work`), decoded by worker processes (`workers`) on this machine (`local`) or by tasks on a Ray cluster
(`cluster`). Only the process that runs a collection writes the store."""
