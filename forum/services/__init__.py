"""The domain: every write goes through a service, which owns its rules, audit and invariants."""
