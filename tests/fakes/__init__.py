"""Test fakes: fake servers and scriptable backends shared by the test suites and benchmarks."""
