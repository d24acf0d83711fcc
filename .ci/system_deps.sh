#!/usr/bin/env bash
# Install and start the system services the sandboxed games use. Needs root (CI is root).
set -u
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v dockerd >/dev/null || need+=(docker.io)
# FOLDOC source, for the test that rebuilds the shipped corpus byte for byte.
[ -e /usr/share/dictd/foldoc.index ] || need+=(dict-foldoc)
# A headless browser, for the episode viewer's DOM tests (tests/viewer).
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
  # No bridge and no iptables: containers run with --network none only.
  nohup dockerd --bridge=none --iptables=false >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || echo "WARNING: dockerd did not start; see /tmp/dockerd.log"
fi
