#!/usr/bin/env bash
# make deploy / make destroy: the whole stack of one environment (CODY_ENV=dev|prod) into the
# AWS account of the current credentials. See OPERATIONS.md.
#
#   scripts/deploy.sh deploy    checks → build → synth → ECR repository → image push → cdktf deploy
#   scripts/deploy.sh destroy   checks → confirmation (type the environment name) → cdktf destroy
#   scripts/deploy.sh check     only the checks
#   scripts/deploy.sh preflight the deploy checks that need no node_modules: `make deploy` runs
#                               them before it installs anything (npm ci needs the network)
#
# Every check runs first and all problems are reported together, before anything is built or
# touched; exit 1 when any fails. Settings come from the environment (or a .env file in the
# repository root, read when present).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
action="${1:-deploy}"
preflight=false
if [[ "$action" == preflight ]]; then
  preflight=true
  action=deploy
fi

if [[ -f .env ]]; then
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
fi

export CODY_ENV="${CODY_ENV:-dev}"
export CHECKPOINT_DISABLE=1 CI=1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
stack="cody-batch-${CODY_ENV}"
stack_dir="terraform/cdktf.out/stacks/${stack}"

say() { printf '%s\n' "$*"; }
fail() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

# ---- checks: settings, tools, AWS credentials, Docker engine ------------------------------------
problems=()
check() { problems+=("$1"); }

case "$CODY_ENV" in dev | prod) ;; *) check "CODY_ENV must be dev or prod (got '$CODY_ENV')" ;; esac
if [[ "$action" == deploy && -z "${ALLOWED_REPOSITORIES:-}" ]]; then
  check "ALLOWED_REPOSITORIES is not set: which repositories may Cody change? e.g. ALLOWED_REPOSITORIES='acme/*'"
fi
if [[ "$action" == deploy && "$CODY_ENV" == prod ]]; then
  [[ -n "${ALARM_EMAIL:-}" ]] || check "ALARM_EMAIL is not set: prod alarms must reach someone (an address or a list; confirm the subscription e-mail)"
  [[ -n "${TF_STATE_BUCKET:-}" ]] || check "TF_STATE_BUCKET is not set: prod needs remote state in S3, not a file on this machine"
  [[ -n "${SUBNET_IDS:-}" ]] || check "SUBNET_IDS is not set: prod needs the subnets its runners use (no default VPC is assumed)"
fi
if [[ "${GITHUB_AUTH:-token}" == app && -z "${GITHUB_APP_ID:-}" ]]; then
  check "GITHUB_AUTH=app needs GITHUB_APP_ID (and usually GITHUB_APP_INSTALLATION_ID)"
fi
command -v terraform >/dev/null || check "terraform is not installed (https://developer.hashicorp.com/terraform/install, 1.10 or newer)"
$preflight || [[ -d node_modules ]] || check "dependencies are missing: run 'make install'"

if ! command -v aws >/dev/null; then
  check "the AWS CLI is not installed (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)"
elif [[ -z "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" \
  && ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" && ! -f "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ]]; then
  check "no AWS credentials: set AWS_PROFILE (aws sso login --profile …) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
elif ! account="$(AWS_MAX_ATTEMPTS=1 aws sts get-caller-identity --query Account --output text --cli-connect-timeout 5 --cli-read-timeout 10 2>&1)"; then
  check "AWS credentials do not work (aws sts get-caller-identity): ${account//$'\n'/ }"
fi
if [[ "$action" == deploy ]]; then
  if ! command -v docker >/dev/null; then
    check "docker is not installed: the runner image is built locally"
  elif ! docker info >/dev/null 2>&1; then
    check "the Docker engine is not running (docker info failed): start Docker Desktop / dockerd"
  fi
fi

if ((${#problems[@]} > 0)); then
  printf 'deploy: cannot %s %s:\n' "$action" "$stack" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
$preflight && { say "deploy: preflight checks passed for $stack (account $account); installing dependencies next"; exit 0; }
[[ "$action" == check ]] && { say "deploy: all checks passed for $stack (account $account)"; exit 0; }

export AWS_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
say "deploy: $action $stack in account $account, region $AWS_REGION"

# ---- destroy --------------------------------------------------------------------------------------
if [[ "$action" == destroy ]]; then
  if [[ "${CONFIRM:-}" != "$CODY_ENV" ]]; then
    [[ -t 0 ]] || fail "destroy needs confirmation: run again with CONFIRM=$CODY_ENV"
    printf 'This deletes %s: tables (job history), artifacts, images, secrets, logs.\nType the environment name (%s) to continue: ' "$stack" "$CODY_ENV"
    read -r answer
    [[ "$answer" == "$CODY_ENV" ]] || fail "not confirmed; nothing was deleted"
  fi
  (cd terraform && npx cdktf destroy "$stack" --auto-approve)
  exit 0
fi

# ---- deploy ---------------------------------------------------------------------------------------
sha="$(git rev-parse --short=12 HEAD 2>/dev/null || echo nogit)"
if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
  # Image tags are immutable: a dirty tree gets its own tag so it is never mistaken for the commit.
  sha="${sha}-dirty-$(date -u +%Y%m%d%H%M%S)"
fi
export RUNNER_IMAGE_TAG="${RUNNER_IMAGE_TAG:-$sha}"

# The watchdog schedule runs only once every secret the bot reads holds a value (before, each
# cold start fails): deploy again after put-secret-value and it is enabled. WATCHDOG_ENABLED=false
# keeps it off (kill switch, OPERATIONS.md).
has_value() { aws secretsmanager describe-secret --secret-id "$1" --query 'VersionIdsToStages' --output text 2>/dev/null | grep -qw AWSCURRENT; }
github_secret="github-token"
[[ "${GITHUB_AUTH:-token}" == app ]] && github_secret="github-app-private-key"
if [[ -z "${WATCHDOG_ENABLED:-}" ]]; then
  WATCHDOG_ENABLED=true
  for name in slack-bot-token slack-signing-secret "$github_secret"; do
    has_value "${stack}-${name}" || { WATCHDOG_ENABLED=false; say "deploy: secret ${stack}-${name} has no value yet: the watchdog schedule stays disabled"; }
  done
fi
export WATCHDOG_ENABLED

node scripts/build.mjs
[[ -f dist/lambda/bot.mjs ]] || fail "dist/lambda/bot.mjs was not built (does bot/lambda.ts exist?)"
[[ -f dist/runner.js ]] || fail "dist/runner.js was not built (does runner/main.ts exist?)"

(cd terraform && npx cdktf synth >/dev/null)
[[ -f "$stack_dir/cdk.tf.json" ]] || fail "synth produced no $stack_dir/cdk.tf.json"

# The image must exist before the job definition points at it: create the repository first.
# The link-signing secret too: it must hold its value before any bot or runner starts (both sign with it).
resource_id() { node -e '
  const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const [type, name] = process.argv.slice(2);
  process.stdout.write(Object.entries(j.resource[type]).find(([, r]) => !name || r.name === name)[0]);' "$stack_dir/cdk.tf.json" "$@"; }
repo_id="$(resource_id aws_ecr_repository)"
link_secret="${stack}-link-signing-secret"
link_id="$(resource_id aws_secretsmanager_secret "$link_secret")"
terraform -chdir="$stack_dir" init -input=false >/dev/null
terraform -chdir="$stack_dir" apply -input=false -auto-approve -target="aws_ecr_repository.${repo_id}" -target="aws_secretsmanager_secret.${link_id}"
# Random bytes, once; never through Terraform, never on a command line.
if ! has_value "$link_secret"; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | aws secretsmanager put-secret-value --secret-id "$link_secret" --secret-string file:///dev/stdin >/dev/null
  say "deploy: $link_secret filled with a random key"
fi
repo_url="$(terraform -chdir="$stack_dir" state show -no-color "aws_ecr_repository.${repo_id}" | sed -n 's/^ *repository_url *= *"\(.*\)"/\1/p')"
[[ -n "$repo_url" ]] || fail "could not read the ECR repository URL from the state"

if aws ecr describe-images --repository-name "${repo_url#*/}" --image-ids "imageTag=$RUNNER_IMAGE_TAG" >/dev/null 2>&1; then
  say "deploy: image $repo_url:$RUNNER_IMAGE_TAG already pushed"
else
  arch="${RUNNER_ARCHITECTURE:-X86_64}"
  platform="linux/amd64"
  [[ "$arch" == ARM64 ]] && platform="linux/arm64"
  aws ecr get-login-password | docker login --username AWS --password-stdin "${repo_url%%/*}"
  docker build --platform "$platform" -f Dockerfile.runner -t "$repo_url:$RUNNER_IMAGE_TAG" dist
  docker push "$repo_url:$RUNNER_IMAGE_TAG"
fi

outputs="terraform/cdktf.out/outputs-${CODY_ENV}.json"
(cd terraform && npx cdktf deploy "$stack" --skip-synth --auto-approve --outputs-file "cdktf.out/outputs-${CODY_ENV}.json")

# The outputs for `cody … --env $CODY_ENV` (scripts/cli-aws-environment.ts), outside cdktf.out so make clean keeps them.
node -e '
  const fs = require("fs");
  const [file, stack, target] = process.argv.slice(1);
  fs.writeFileSync(target, JSON.stringify(JSON.parse(fs.readFileSync(file, "utf8"))[stack] ?? {}, null, 2) + "\n");' "$outputs" "$stack" "terraform/outputs-${CODY_ENV}.json"

node - "$outputs" "$stack" <<'EOF'
const [file, stack] = process.argv.slice(2);
const o = JSON.parse(require("fs").readFileSync(file, "utf8"))[stack] ?? {};
const secrets = Object.entries(o).filter(([k]) => k.startsWith("secret_") && k !== "secret_link_signing_secret"); // deploy fills that one
console.log(`
deploy: done.

Slack setup (once per environment):
  1. In bot/manifest.yml put this request URL for the slash command and interactivity:
       ${o.bot_url}
  2. Create or update the app at https://api.slack.com/apps from the manifest, install it to the workspace.
  3. Store the credentials (values never go through Terraform):`);
for (const [k, arn] of secrets) {
  console.log(`       aws secretsmanager put-secret-value --secret-id ${arn} --secret-string "$${k.slice(7).toUpperCase()}"`);
}
console.log(`  4. Deploy again (make deploy): with every secret set, the watchdog schedule is enabled (${process.env.WATCHDOG_ENABLED === "true" ? "it is now" : "it is disabled now"}).
  5. Invite the bot to a channel and type /cody. Alarms go to ${o.alarm_topic}.
  From this machine: npx cody list --env ${process.env.CODY_ENV} (outputs in terraform/outputs-${process.env.CODY_ENV}.json).
`);
EOF
