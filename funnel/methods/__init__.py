"""The selling methods of the source courses, as tables.

qualification   5W+2P / 6W+2P, MAN, go/no-go, urgency and importance, account grades
decision_chain  who is in the customer's decision chain and what is at risk
competition     the comparison table that decides, and the head-to-head record
negotiation     concession plans, lifetime and delivered value
labels          the codes and bilingual labels of every enumeration these use
"""

from funnel.methods.competition import (
    COMPARISON_GAPS_COLUMNS,
    COMPARISON_RESULT_COLUMNS,
    GENERAL,
    HEAD_TO_HEAD_COLUMNS,
    NOTE_HEADERS,
    US_NAMES,
    comparison_tables,
    head_to_head,
    read_comparison,
    split_competitors,
)
from funnel.methods.decision_chain import (
    CORE_ROLES,
    ENUM_COLUMNS,
    RISK_FLAGS,
    chain_columns,
    decision_chain_table,
    read_stakeholders,
)
from funnel.methods.labels import (
    KINDS,
    LANGUAGES,
    codes,
    label,
    labels,
    localize,
    normalize_language,
    parse_enum,
)
from funnel.methods.negotiation import (
    PATTERNS,
    WARNINGS,
    ConcessionPlan,
    concession_plan,
    delivered_value,
    lifetime_value,
)
from funnel.methods.qualification import (
    TOP_SHARE,
    account_grades,
    days_to_close,
    go_no_go,
    importance,
    join_labels,
    man_gate,
    qualification_columns,
    qualification_table,
    question_completeness,
    star_grade,
    urgency,
)

__all__ = [
    "GENERAL",
    "US_NAMES",
    "COMPARISON_RESULT_COLUMNS",
    "COMPARISON_GAPS_COLUMNS",
    "HEAD_TO_HEAD_COLUMNS",
    "NOTE_HEADERS",
    "read_comparison",
    "comparison_tables",
    "split_competitors",
    "head_to_head",
    "CORE_ROLES",
    "RISK_FLAGS",
    "ENUM_COLUMNS",
    "read_stakeholders",
    "chain_columns",
    "decision_chain_table",
    "LANGUAGES",
    "KINDS",
    "label",
    "labels",
    "codes",
    "parse_enum",
    "localize",
    "normalize_language",
    "PATTERNS",
    "WARNINGS",
    "ConcessionPlan",
    "concession_plan",
    "lifetime_value",
    "delivered_value",
    "TOP_SHARE",
    "question_completeness",
    "man_gate",
    "go_no_go",
    "urgency",
    "days_to_close",
    "importance",
    "account_grades",
    "star_grade",
    "qualification_table",
    "qualification_columns",
    "join_labels",
]
