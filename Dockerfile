# syntax=docker/dockerfile:1
#
# shipper container image.
#
#   docker build -t shipper:0.1.0 .
#   docker run --rm -v "$PWD/fluent-bit.conf:/fluent-bit/etc/fluent-bit.conf:ro" shipper:0.1.0
#
# Stage 1 builds shipper's wheel and every dependency into a virtualenv and checks the
# shipped deploy/ configs with it; stage 2 copies only that virtualenv onto a slim Python,
# so no compiler, pip cache or source tree reaches the final image.
#
# The image runs as uid 10001 by default. The DaemonSet (deploy/daemonset/daemonset.yaml)
# overrides that with runAsUser: 0, because container logs under /var/log/pods are readable
# by root only on most nodes; with all capabilities dropped and a read-only root filesystem.
# Reading group-readable logs as non-root instead: `--user 10001:<log group>` (docker) or
# runAsUser/runAsGroup (Kubernetes).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# pip installs with precompiled bytecode here, so the read-only final image starts fast.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/shipper
COPY pyproject.toml README.md ./
COPY shipper/ ./shipper/
# All dependencies ship binary wheels for linux/amd64 and linux/arm64 (Graviton); a
# platform without them would need build-essential here, in this stage only.
RUN /opt/shipper/bin/pip wheel --wheel-dir /wheels . \
    && /opt/shipper/bin/pip install --no-index --find-links /wheels /wheels/shipper-*.whl
# The image checks what it ships: every deploy/ config must pass `shipper check`.
COPY deploy/ ./deploy/
RUN /opt/shipper/bin/shipper --version \
    && CLUSTER_NAME=check AWS_REGION=us-east-1 HOST_NAME=node POD_NAME=pod POD_NAMESPACE=default \
       /opt/shipper/bin/shipper check -c deploy/daemonset/configmap.yaml \
    && AWS_REGION=us-east-1 POD_NAME=pod POD_NAMESPACE=default \
       /opt/shipper/bin/shipper check -c deploy/sidecar/configmap.yaml \
    && /opt/shipper/bin/shipper check -c deploy/image/fluent-bit.conf \
    && for manifest in deploy/fargate/*/aws-logging.yaml; do /opt/shipper/bin/shipper check -c "$manifest" || exit 1; done

FROM ${PYTHON_IMAGE}
ARG PYTHON_IMAGE
# Set by the build (docker build --build-arg VERSION=... --build-arg REVISION=$(git rev-parse HEAD) ...).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="shipper" \
      org.opencontainers.image.description="A Fluent Bit-compatible log shipper for Kubernetes, written in Python asyncio" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
ENV PATH=/opt/shipper/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/shipper /opt/shipper
# Fluent Bit's paths: existing ConfigMaps mount at /fluent-bit/etc/ unchanged, configs naming
# /fluent-bit/parsers/parsers.conf find Fluent Bit's standard parsers, and the DaemonSet keeps
# its offsets DB and filesystem buffer under /var/fluent-bit/state.
COPY deploy/image/fluent-bit.conf /fluent-bit/etc/fluent-bit.conf
COPY config/parsers.conf /fluent-bit/parsers/parsers.conf
# /fluent-bit/bin/fluent-bit too, so a DaemonSet whose `command:` names Fluent Bit's binary
# (with -c FILE) runs shipper unchanged after swapping the image.
RUN groupadd --system --gid 10001 shipper \
    && useradd --system --uid 10001 --gid shipper --home-dir /var/fluent-bit --no-create-home shipper \
    && mkdir -p /var/fluent-bit/state /fluent-bit/bin \
    && chown -R shipper:shipper /var/fluent-bit \
    && ln -s /opt/shipper/bin/shipper /fluent-bit/bin/fluent-bit
USER 10001:10001
WORKDIR /fluent-bit/etc
EXPOSE 2020
# Needs `Health_Check On` in [SERVICE] (404 otherwise, as with Fluent Bit); the default config has it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:2020/api/v1/health', timeout=4)"]
ENTRYPOINT ["shipper"]
CMD ["run", "-c", "/fluent-bit/etc/fluent-bit.conf"]
