"""What the build and the server share: the station registry, and the harness that
runs the real server and browser for the tests and the benchmarks."""
