# The palisade image that deploy/ and the Helm chart run:
#   docker build -t ghcr.io/palisade-dev/palisade:0.1.0 .
# The binary links glibc dynamically (mimalloc and rustls need nothing more), so the final stage
# is distroless "cc": no shell, no package manager, user nonroot (65532).

ARG RUST_VERSION=1.89

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p palisade \
    && cp target/release/palisade /palisade

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.source="https://github.com/palisade-dev/palisade" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /palisade /palisade
USER 65532:65532
ENTRYPOINT ["/palisade"]
