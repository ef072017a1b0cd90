"""Labels in: labels files parsed into tables (`labels`, `table`, `checks`), joined to a store's frames (`join`),
and gathered with every stored sample of each labelled video (`dataset`)."""
