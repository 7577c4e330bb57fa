"""The built-in demo: a believable key-account business with real signal in it.

data         opportunities, stage history, quotas, settings
competition  competitors, comparison tables and decision chains for the same deals
"""

from funnel.demo.competition import DEMO_FACTORS, DEMO_SEED, demo_competition_tables
from funnel.demo.data import DEMO_AS_OF, demo_tables

__all__ = ["DEMO_SEED", "DEMO_FACTORS", "demo_competition_tables", "DEMO_AS_OF", "demo_tables"]
