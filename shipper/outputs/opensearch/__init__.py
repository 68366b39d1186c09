"""``opensearch``: OpenSearch and Amazon OpenSearch Service (the ``_bulk`` API).

Roles, one module each: :mod:`.options` (the option table), :mod:`.request`
(bulk lines and request splitting) with :mod:`.index` (index names),
:mod:`.transport` (HTTP, TLS, gzip, SigV4, and an in-memory fake),
:mod:`.result` (classifying the answer, per item) and :mod:`.output` (the
plugin).
"""

from shipper.outputs.opensearch.output import OpenSearchOutput

__all__ = ["OpenSearchOutput"]
