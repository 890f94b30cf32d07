"""kafkaio's cross-client benchmark suite: ``python -m benchmarks [--quick]`` (see BENCHMARKS.md).

Every measured run happens in its own subprocess (one client, one scenario, one configuration), so
that peak RSS belongs to that client alone and no client warms caches for another.
"""
