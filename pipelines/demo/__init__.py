"""Demo landing data: a generated organisation for ``owh demo``, the tests and the benchmarks."""

from pipelines.demo.generator import DemoManifest, generate_demo

__all__ = ["DemoManifest", "generate_demo"]
