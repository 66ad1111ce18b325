"""`make bench`: what the package's providers cost over the Pulumi engine's own floor.

Run as ``python -m benchmarks`` (``--help`` for the options). Never part of the test suite.
"""
