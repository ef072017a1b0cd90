"""Package names that load with their module on first use (PEP 562).

`import featurestore.errors`, `import classifiers.choices` and the CLI's --help then do not pay for pandas, h5py or
scikit-learn, while `from featurestore import FeatureStore` works as before.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable, Mapping, Sequence


def lazy_names(package: str, modules: Mapping[str, Sequence[str]]) -> tuple[list[str], Callable, Callable]:
    """`__all__`, `__getattr__` and `__dir__` for `package`, whose submodule ".m" defines the names `modules[".m"]`."""
    where = {name: module for module, names in modules.items() for name in names}
    namespace = import_module(package).__dict__

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where[name], package), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return list(where), __getattr__, __dir__
