"""Business continuity across locations: templates and roles, leases and epochs (fencing), the
watchdog, failover and failback, replication of runs, and the failover drill."""
