#!/usr/bin/env bash
# The main job on embedded defaults, vendor side then site side:
#   start the local site (Kubernetes + TLS registry) and a vendor registry with the
#   scaffold's three images; scaffold a Konfig repo; build its dev stack into one signed
#   package; verify it; install it (images pushed to the site registry, workloads pointed
#   at them by digest, the site's variables given, health waited for); show its status.
# Running it again installs the same package again: nothing to push, nothing to change.
set -euo pipefail
cd "$(dirname "$0")/.."
kdeliver() { node bin/kdeliver.js "$@"; }
work=${KDELIVER_DEMO_DIR:-$PWD/demo}
# The same inputs build the same package bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600}

kdeliver sandbox up
eval "$(kdeliver sandbox env)"
[ -e "$work/kcl.mod" ] || kdeliver init "$work"
node scripts/demo-images.ts
[ -e "$work/kdeliver.key" ] || kdeliver keys generate --out "$work"

package="$work/shop-1.0.0.tar.zst"
kdeliver build "$work/shop/dev" -D "image_registry=$KDELIVER_SOURCE_REGISTRY" \
  --version 1.0.0 --key "$work/kdeliver.key" -o "$package"
kdeliver verify "$package" --key "$work/kdeliver.pub"

# The site's values for the variables the stack declares (a terminal would be asked).
values="$work/site-values.yaml"
[ -e "$values" ] || (umask 077 && printf 'domain: shop.demo.local\ndb_password: demo-%s\n' "$RANDOM$RANDOM" >"$values")
kdeliver install "$package" --key "$work/kdeliver.pub" --values "$values" --state "$work/state.db" --yes
kdeliver status shop --state "$work/state.db"
echo
echo "The shop is installed on the sandbox (KUBECONFIG=$KUBECONFIG): kdeliver history shop --state $work/state.db"
echo "Stop the site with: node bin/kdeliver.js sandbox down"
