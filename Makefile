# wpfix — build, test, demo.
#
#   make build   a static wpfix binary here, named with its version
#   make release static, stripped binaries for linux/amd64 and arm64 in dist/, with SHA256SUMS
#   make man     one man page per command in man/, from their --help
#   make test    install the Debian packages the tests need (as root), then run every test
#   make demo    a throwaway local WordPress site, broken by a plugin, reached over SSH
#   make bench   the benchmarks whose figures the README records

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)

# The real stack the tests run against: wp/wptest, remote/sshtest and
# agent/notify (an SMTP server, aiosmtpd; a sendmail, msmtp) start these
# servers themselves, on loopback, with configs of their own; cmd/wpfix checks
# wpfix check's metrics with promtool (prometheus); the completion scripts
# run in bash (with bash-completion), zsh and fish, and the man pages
# through groff and man.
PACKAGES := nginx php-fpm php-cli php-mysql mariadb-server mariadb-client \
	wordpress wordpress-theme-twentytwentythree wordpress-theme-twentytwentytwo \
	openssh-server openssh-client \
	python3-aiosmtpd msmtp prometheus \
	bash-completion zsh fish groff-base man-db

.PHONY: build release test deps vet demo bench

# What a build names itself, from git: VERSION is `git describe` (the tag,
# "-N-g<short hash>" past it, the short hash alone before any tag, "-dirty"
# with uncommitted changes), COMMIT the full hash. A build without git, from
# a tarball, gives them: make release VERSION=v0.1.0 COMMIT=<hash>. They are
# linked into cmd/wpfix, which `wpfix version` prints; without them it falls
# back on what the go command recorded (-buildvcs).
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
MODIFIED := $(if $(filter %-dirty,$(VERSION)),true,false)
# Static (no cgo), no local paths (-trimpath), stripped (-s -w), named.
BUILDFLAGS = -trimpath -buildvcs=auto \
	-ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.modified=$(MODIFIED)"
RELEASE_PLATFORMS := linux/amd64 linux/arm64

build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o wpfix ./cmd/wpfix

# release builds dist/wpfix-VERSION-OS-ARCH for each platform, afresh, and
# dist/SHA256SUMS: check a download with `sha256sum -c SHA256SUMS`.
release:
	rm -rf dist && mkdir dist
	@for p in $(RELEASE_PLATFORMS); do \
		bin=dist/wpfix-$(VERSION)-$${p%/*}-$${p#*/}; echo "$$bin"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build $(BUILDFLAGS) -o $$bin ./cmd/wpfix || exit 1; \
	done
	cd dist && sha256sum wpfix-$(VERSION)-* > SHA256SUMS

test: deps vet
	$(GO) test -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

# deps installs what is missing with apt-get when run as root; otherwise it
# prints the one line to run. Under CI=true a missing package fails the run:
# CI never skips the stack tests.
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	else \
		echo "wpfix's tests need Debian packages; run: sudo apt-get install -y --no-install-recommends$$missing"; \
		if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# make man writes one man page per command (wpfix.1, wpfix-bisect.1, …)
# into man/, from the commands' own help: `man -l man/wpfix.1` reads one;
# copy them to /usr/local/share/man/man1 to install them.
.PHONY: man
man:
	CGO_ENABLED=0 $(GO) run $(BUILDFLAGS) ./cmd/wpfix __man man

# demo runs TestDemo from its compiled test binary under WPFIX_DEMO=1: it
# prints the transcript of a terminal session and nothing of the test harness
# (cmd/wpfix/demo_main_test.go), which it shows only when the demo fails. The
# binary runs in its package's directory, as go test runs it, with this go on
# PATH, as go test puts it there (the test builds wpfix with it).
demo: deps
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(GO) test -c -o "$$dir/wpfix.test" ./cmd/wpfix && \
	cd cmd/wpfix && PATH="$$($(GO) env GOROOT)/bin:$$PATH" WPFIX_DEMO=1 "$$dir/wpfix.test"

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3x -count=1 ./wp/wptest ./remote/sshtest ./cmd/wpfix
