"""A fault-schedule verifier: run a workload through faults drawn from a seed, log every client
operation with its outcome, read the log back with fresh clients and check the delivery rules.

    python -m kafkaio.testing.chaos --seed 7 --duration 30 --workload producer
    make chaos SEED=7                  # replay one seed
    make chaos DURATION=30m            # soak: random seeds until the time is up, then a summary

One role per module: :mod:`.schedule` (the seeded faults, as data), :mod:`.history` (the operation
log), :mod:`.checker` (the rules, pure functions), :mod:`.workloads` (producer and consumer-group
workloads that append to the history), :mod:`.injector` (applies a schedule to proxies and brokers),
:mod:`.readback` (reads the log back with kafkaio and with Kafka's own Java console consumer),
:mod:`.runner` (one schedule end to end, and the soak loop). See docs/chaos.md.
"""
