"""UI tests run on a fixed clock and timezone."""

from __future__ import annotations

import os
import time

os.environ["TZ"] = "UTC"
time.tzset()
