# Cody Batch — see README.md. Every target installs dependencies first when needed.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?= true
NODE_MODULES_STAMP := node_modules/.install-stamp

.PHONY: help install run test test-browser arch-check typecheck build dev synth deploy destroy sbom bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

# Installs when node_modules is missing or older than package.json / package-lock.json.
$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(NODE_MODULES_STAMP) ## install dependencies (npm ci)

run: $(NODE_MODULES_STAMP) ## run one batch job end to end on the embedded stack (REPOS, PROMPT, SCRIPT, PR=1)
	node scripts/cody.mjs demo

typecheck: $(NODE_MODULES_STAMP) ## type-check everything
	npx tsc --noEmit -p tsconfig.json

test: $(NODE_MODULES_STAMP) ## layout check, type-check, then every test suite offline
	@echo "test: 1/3 arch-check (import loops, arrows up, file sizes, folder faces)…"
	@node scripts/arch-check.mjs
	@echo "test: 2/3 type-checking with tsc (silent for 20–60 s)…"
	@npx tsc --noEmit -p tsconfig.json
	@echo "test: 3/3 vitest (every file below; the embedded stack starts first)…"
	npx vitest run --reporter=default --reporter=json --outputFile.json=.cody/test-results.json

# The browser test (test-browser/, its own vitest config): Debian's chromium through playwright-core.
# As root it installs chromium with apt when missing; otherwise it says how.
test-browser: $(NODE_MODULES_STAMP) ## the job page in headless chromium (installs Debian's chromium when root and missing)
	@if [ ! -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "test-browser: chromium is missing: sudo apt-get install -y chromium (or set CHROMIUM_PATH)" >&2; exit 2; fi; \
	fi
	npx vitest run -c vitest.browser.config.ts --reporter=default --reporter=json --outputFile.json=.cody/test-browser-results.json

arch-check: ## the layout rules of ARCHITECTURE.md (scripts/arch-check.mjs)
	@node scripts/arch-check.mjs

build: $(NODE_MODULES_STAMP) ## bundle dist/bot.js, dist/runner.js and the CLI (dist/cody.js) with esbuild
	node scripts/build.mjs

synth: $(NODE_MODULES_STAMP) ## synthesize the Terraform JSON into terraform/cdktf.out (offline; CODY_ENV=dev|prod)
	cd terraform && CHECKPOINT_DISABLE=1 CI=1 npx cdktf synth

deploy: ## check AWS credentials, Docker and settings (before installing anything), then build, push the runner image and deploy (CODY_ENV=dev|prod)
	scripts/deploy.sh preflight
	@$(MAKE) --no-print-directory $(NODE_MODULES_STAMP)
	scripts/deploy.sh deploy

destroy: $(NODE_MODULES_STAMP) ## delete the whole stack of CODY_ENV after typing its name (or CONFIRM=<env>)
	scripts/deploy.sh destroy

sbom: $(NODE_MODULES_STAMP) ## CycloneDX software bill of materials of the production dependencies into dist/sbom.cdx.json
	@mkdir -p dist
	npm sbom --sbom-format cyclonedx --omit dev > dist/sbom.cdx.json
	@echo "sbom: dist/sbom.cdx.json"

dev: $(NODE_MODULES_STAMP) ## embedded stack + the bot's HTTP server on PORT (default 3000)
	node scripts/cody.mjs dev

.PHONY: playground
playground: $(NODE_MODULES_STAMP) ## the Slack bot with local stand-ins for Slack and GitHub and a web page (PLAYGROUND_PORT, default 3100)
	node scripts/cody.mjs playground

bench: $(NODE_MODULES_STAMP) ## the benchmarks (ratios against same-run baselines) → bench/results/latest.json
	node --import tsx scripts/bench/main.ts

clean: ## stop the embedded stack's daemon, remove build output and the stack's data
	@if [ -f .cody/stack.json ]; then kill $$(node -p 'require("./.cody/stack.json").pid') 2>/dev/null || true; sleep 1; fi
	rm -rf dist .cody terraform/cdktf.out
