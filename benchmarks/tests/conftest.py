"""The product tests' fixtures the benchmark tests use: an empty zoo per test, the data folder, a tiny backbone."""

from tests.conftest import _isolated_zoo, data_dir, one_thread, tiny_backbone

__all__ = ["_isolated_zoo", "data_dir", "one_thread", "tiny_backbone"]
