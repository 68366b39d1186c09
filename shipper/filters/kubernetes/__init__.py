"""The ``kubernetes`` filter, split by concern.

- :mod:`.tag` — which pod a tag names (Kube_Tag_Prefix, Regex_Parser);
- :mod:`.client` — API server, kubelet and file sources; :mod:`.token` the bearer token;
- :mod:`.cache` — TTL cache with single flight, negative caching and backoff;
- :mod:`.podmeta` — the ``kubernetes`` / ``kubernetes_namespace`` maps;
- :mod:`.annotations` — ``fluentbit.io/parser`` and ``fluentbit.io/exclude``;
- :mod:`.merge` — Merge_Log;
- :mod:`.filter` — the plugin itself.
"""

# Importing the package must register the plugin: the registry imports
# ``shipper.filters.kubernetes`` by name and would otherwise fall back to
# importing every plugin (aiobotocore included: +0.44 CPU s, +23 MB per start).
from shipper.filters.kubernetes.filter import KubernetesFilter as KubernetesFilter  # noqa: E402
