# onggi: `make run` to use it, `make test` to check it. Both set everything up first.
SHELL := /bin/bash
# Debian's own Python 3.11 when there is one: built with PGO and LTO, it starts each
# `onggi` ~0.5 ms sooner and runs onggi's code ~13% faster than a plain source build
# (a launch: 25.3 vs 27.0 ms). Any python3 >= 3.11 works: `make PYTHON=python3.12`.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3)
VENV := .venv
PY := $(VENV)/bin/python
ONGGI := $(VENV)/bin/onggi

# The containers-vs-VMs lesson's real VM (runtime/vm): qemu and a Debian kernel,
# installed first and without their recommends (qemu's are a whole graphics stack,
# the kernel's apparmor and firmware). No bootloader: qemu boots the vmlinuz itself.
APT_NO_RECOMMENDS := qemu-system-x86 linux-image-amd64

# Debian packages: the runtime's tools (busybox for the base image, iproute2 and
# nftables for networking, graphviz for diagrams), the registry onggi serves, peers
# the tests and benchmarks compare against (skopeo, umoci, runc, crun, podman),
# Chromium and Korean fonts for the browser tests, htpasswd (apache2-utils) for the
# registry tests' basic auth, python3-venv for the venv of Debian's Python, and a C
# compiler for the `onggi` client (runtime/cli/client.c).
APT_PACKAGES := busybox-static iproute2 nftables graphviz docker-registry \
	skopeo umoci runc crun podman hyperfine chromium fonts-noto-cjk \
	apache2-utils python3-venv gcc libc6-dev $(APT_NO_RECOMMENDS)

.PHONY: setup apt venv client npm bytecode base-image run test unit integration e2e bench clean

setup: apt venv client npm bytecode base-image

apt:
	@missing=$$(for p in $(APT_NO_RECOMMENDS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages (without recommends):" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# compat mode: a plain .pth entry, no import hook, so `onggi` starts fast.
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	# The venv's own setuptools (pip builds in an isolated env) only adds a .pth
	# hook that every Python start, so every `onggi`, pays for (~1.3 ms).
	$(PY) -m pip uninstall -q -y setuptools
	touch $@

# `onggi` itself: the warm CLI's client in C (runtime/cli/client.c), in place of the
# script pip wrote, which starts a whole Python interpreter (~7 ms) to do the same.
# It becomes that Python CLI whenever no warm server can run the command. Rebuilt
# after every pip install, which puts the script back.
client: $(VENV)/.client

$(VENV)/.client: runtime/cli/client.c $(VENV)/.installed
	cc -O2 -Wall -Wextra -Werror -DONGGI_PYTHON='"$(abspath $(PY))"' -o $(ONGGI).new $<
	mv -f $(ONGGI).new $(ONGGI)
	touch $@

# Byte-compile the project: every `onggi` command starts a Python, and where
# PYTHONDONTWRITEBYTECODE is set it would otherwise compile its modules each time.
bytecode: venv
	@$(PY) -m compileall -q -j 0 runtime web

# Browser libraries from npm (xterm.js, socket.io) into static/vendor/, served by
# the web app: never from a CDN, a classroom may be offline. `npm ci` runs only
# when the lockfile changed.
VENDOR_FILES := node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/css/xterm.css \
	node_modules/@xterm/addon-fit/lib/addon-fit.js node_modules/socket.io-client/dist/socket.io.min.js

npm: static/vendor/.installed

static/vendor/.installed: static/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	cd static && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cd static && cp $(VENDOR_FILES) vendor/
	touch $@

# Without the warm server: setup must leave no process (nor its spare cgroup) behind.
base-image: venv
	ONGGI_NO_WARM=1 $(ONGGI) system init

run: setup
	$(ONGGI) serve

test: setup
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests/unit

integration: setup
	$(PY) -m pytest tests/integration

e2e: setup
	$(PY) -m pytest tests/e2e

bench: setup
	$(PY) -m pytest -p no:cacheprovider tests/bench -s --timeout 3600

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
