"""The built-in function library: importing this package registers every function.

Each module owns one family of the Logic Apps "Reference guide to workflow expression functions";
date and time functions live in `datetime.py`.
"""

from __future__ import annotations

# Imported to register their functions.
import pairflow.expressions.functions.collections
import pairflow.expressions.functions.conversion
import pairflow.expressions.functions.datetime
import pairflow.expressions.functions.logical
import pairflow.expressions.functions.manipulation
import pairflow.expressions.functions.math
import pairflow.expressions.functions.strings
import pairflow.expressions.functions.uri
import pairflow.expressions.functions.workflow  # noqa: F401
