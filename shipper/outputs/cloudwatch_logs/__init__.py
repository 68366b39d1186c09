"""``cloudwatch_logs``: Amazon CloudWatch Logs (PutLogEvents), Fluent Bit's C plugin.

Roles, one module each: :mod:`.options` (the option table), :mod:`.request`
(request building, with the API limits as named constants) with
:mod:`.truncation` (cutting oversized messages), :mod:`.streams` (groups and
streams made to exist on first use), :mod:`.transport`
(how a request reaches the service, and an in-memory fake), :mod:`.result`
(classifying the answer) and :mod:`.output` (the plugin).
"""

from shipper.outputs.cloudwatch_logs.output import RETENTION_DAYS, CloudWatchLogs
from shipper.outputs.cloudwatch_logs.streams import Destination

__all__ = ["RETENTION_DAYS", "CloudWatchLogs", "Destination"]
