"""The front door: a small HTTP router in front of two or more pairflow locations.

It forwards Request-trigger calls to healthy locations (round-robin for active-active workflows, by
priority for active-passive ones), probes their health, retries a failed call on another location only
when no run can have been created, and can write an equivalent HAProxy or nginx configuration.
"""
