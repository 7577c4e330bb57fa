"""Test-wide settings.

Hypothesis judges behaviour, never the clock: no example may fail for being slow (its
default 200 ms deadline failed property tests on a busy two-core machine).
"""

from hypothesis import HealthCheck, settings

settings.register_profile("funnel", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("funnel")
