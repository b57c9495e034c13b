# SparkDeck's container image (the StartOS package's only image), for linux/amd64 and linux/arm64.
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t sparkdeck:0.9.0 .
#
# scripts/check-image proves the runtime stage's contents without Docker: the same release build, a bookworm root
# filesystem from the same package list (package/runtime-packages.txt), the same user, paths and port.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build: the release binary and its SwiftPM resource bundles
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product sparkdeck \
    && mkdir -p /staging \
    && cp "$(swift build -c release --static-swift-stdlib --show-bin-path)/sparkdeck" /staging/ \
    && cp -R "$(swift build -c release --static-swift-stdlib --show-bin-path)"/*.resources /staging/

# ---- runtime: slim Debian, the package list, a non-root user
FROM ${RUNTIME_IMAGE}
COPY package/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && sed 's/#.*//' /tmp/runtime-packages.txt | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
# uid/gid 1000: the StartOS package's actions and scripts/check-image use the same user.
RUN groupadd --gid 1000 sparkdeck \
    && useradd --uid 1000 --gid sparkdeck --create-home --home-dir /home/sparkdeck --shell /usr/sbin/nologin sparkdeck \
    && mkdir -p /data \
    && chown sparkdeck:sparkdeck /data
# The binary finds its resource bundles (dashboard, name lists, OpenAPI) next to itself.
COPY --from=build /staging/ /opt/sparkdeck/
COPY examples/inventory.yaml /opt/sparkdeck/share/inventory.example.yaml
ENV PATH=/opt/sparkdeck:$PATH
USER sparkdeck
WORKDIR /data
VOLUME /data
EXPOSE 9999
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:9999/readyz || exit 1
ENTRYPOINT ["/opt/sparkdeck/sparkdeck"]
CMD ["serve", "--inventory", "/data/inventory.yaml", "--data", "/data", "--host", "0.0.0.0", "--port", "9999"]
