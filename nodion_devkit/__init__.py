"""Development-only helpers shared by ``tests/``, ``benchmarks/`` and ``reliability/``.

Driving the real Pulumi CLI against the emulator is needed by all three; keeping it here
means no tool imports a test module, and nothing here is ever shipped in the wheel (the
wheel holds ``nodion_pulumi`` only).
"""
