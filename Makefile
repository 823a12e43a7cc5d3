# wpfix — build, test, demo.
#
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

.PHONY: build test deps vet demo bench

build:
	CGO_ENABLED=0 $(GO) build -o wpfix ./cmd/wpfix

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
	$(GO) run ./cmd/wpfix __man man

demo: deps
	$(GO) test -count=1 -run '^TestDemo$$' -v ./cmd/wpfix

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3x -count=1 ./wp/wptest ./remote/sshtest ./cmd/wpfix
